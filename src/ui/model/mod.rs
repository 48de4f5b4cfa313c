pub mod server_panel;
