"""Portal views, one module per audience: staff, printer admins (printers, rules), accounts."""
