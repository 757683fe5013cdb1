toplevel = "acme_toplevel"
