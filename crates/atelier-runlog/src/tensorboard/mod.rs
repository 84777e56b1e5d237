//! TensorBoard event files: [`proto`] (the Event and Summary messages as prost structs),
//! [`record`] (TFRecord framing with masked CRC-32C), [`EventWriter`] and [`read_events`].

pub mod proto;
pub mod reader;
pub mod record;
pub mod writer;

pub use reader::{ReadError, read_events, read_events_from};
pub use writer::EventWriter;
