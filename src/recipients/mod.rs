//! Recipients: the CSV audience read row by row, phone numbers, suppressions and time zones.

pub mod phone;
