//! `inline`: macro and list inlining — already done before the IR exists, so this pass changes
//! nothing.
//!
//! Why there is nothing left: the loader (`frule_lang::loader`) substitutes lists into conditions and
//! expands every macro reference into the macro's (checked) body before a rule reaches lowering, and
//! lowering rejects a condition that still names a macro. Lowering then hash-conses the expanded
//! bodies, so a macro used by many rules is *one* subexpression of the program rather than a copy per
//! use — the shared form fusion and the VM's memo slots want. Inlining at the IR level would undo that
//! sharing. The IR has no call or reference instruction, so every program (lowered or parsed) is
//! already fully inlined; the pass is kept so that the pipeline reads like the and `--emit opt`
//! shows it ran.

use super::Pass;
use crate::ir::Program;

/// The (no-op) inlining pass; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inline;

impl Pass for Inline {
    fn name(&self) -> &'static str {
        "inline"
    }

    fn run(&self, p: &Program) -> Program {
        p.clone()
    }
}
