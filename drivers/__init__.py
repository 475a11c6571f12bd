"""Device drivers: one module per platform, all following the contract in drivers.base.

`drivers.registry.create_driver(platform)` maps a platform name to its driver;
`drivers.credentials.CredentialStore` finds a device's login.
"""

from drivers.registry import PLATFORMS, create_driver, driver_class

__all__ = ["PLATFORMS", "create_driver", "driver_class"]
