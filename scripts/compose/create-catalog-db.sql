-- Flotilla's catalog lives beside Temporal's databases on the same server.
CREATE DATABASE flotilla;
