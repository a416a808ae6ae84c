/// Pretend storage backend: reports which backend a service is using.
pub fn backend() -> String {
    format!("pg storage ({})", greeting::greeting())
}
