"""Device drivers: one module per platform, all following the contract in drivers.contract.

`drivers.registry.create_driver(platform, kind)` maps a platform name to its driver;
`drivers.platforms` lists the names per device kind as plain data;
`drivers.credentials.CredentialStore` finds a device's login.
"""
