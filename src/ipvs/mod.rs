//! The virtual servers: their pools (`pool`) and the kernel's IPVS table.

pub mod pool;
