//! Placeholder: the config module is being written on the `config` branch.
