//! Generates the parser of the textual IR (`src/ir/grammar.lalrpop`).

fn main() {
    lalrpop::process_src().expect("the IR grammar must compile");
}
