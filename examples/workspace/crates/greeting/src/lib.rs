/// The greeting every service prints; edit it to see which binaries pick the change up.
pub fn greeting() -> &'static str {
    "hello from greeting"
}
