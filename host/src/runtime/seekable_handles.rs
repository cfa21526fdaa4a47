//! What the guest's `seekable` handles stand for in an instance's resource table. The generated
//! bindings name these types (`with` in `bindings.rs`), so they live apart from the import's
//! implementation (`seekable_import.rs`), which needs the bindings and the store state: kept
//! together, the three made an import circle.

use std::sync::Arc;

use crate::seekable::{SeekableSink, SeekableSource};

/// What the guest's `source` handle stands for in the instance's resource table.
pub struct SourceHandle(pub Arc<dyn SeekableSource>);

/// What the guest's `sink` handle stands for in the instance's resource table.
pub struct SinkHandle(pub Arc<dyn SeekableSink>);
