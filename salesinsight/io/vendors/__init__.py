"""The layouts of each vendor's exports: one module per CRM, each a list of table formats."""
