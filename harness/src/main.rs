fn main() {
    std::process::exit(dicetest::cli::main());
}
