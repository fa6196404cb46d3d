"""What houses and tools call: the Konnektive-compatible API, its OpenAPI document, the
API users' authentication, and the ShipWorks Generic Module."""
