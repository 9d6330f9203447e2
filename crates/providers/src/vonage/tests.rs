//! Vonage tests.
