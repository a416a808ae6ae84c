/// Source revision marker: change it together with the code so a running binary says what it is.
const REVISION: &str = "api-initial";

fn main() {
    println!("api revision={} {}", REVISION, storage_pg::backend());
}
