//! The rows of the field schema.

use super::FieldInfo;

/// Every field, grouped by class in `falco --list` order.
pub static FIELDS: &[FieldInfo] = &[];
