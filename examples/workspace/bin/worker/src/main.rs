/// Source revision marker: change it together with the code so a running binary says what it is.
const REVISION: &str = "worker-initial";

fn main() {
    println!("worker revision={}", REVISION);
}
