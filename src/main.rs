fn main() {
    println!("keepalived-rs: work in progress");
}
