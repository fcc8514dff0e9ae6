"""3D views of the constellation with PyVista (see the 3D view issue); nothing here yet."""
