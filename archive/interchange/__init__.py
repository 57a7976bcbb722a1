"""Records in and out of the archive in the field's own formats: BagIt packages, PBCore 2.1, Dublin
Core and CSV. Each format is a module of its own; `commands` holds the `crossings export` and
`crossings import` groups their commands join.
"""
