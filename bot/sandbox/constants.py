"""Fixed identities of the sandbox: tenant, environment, the one registered client, well-known roles."""

from __future__ import annotations

SANDBOX_TENANT = "5f2d7c1e-8a43-4b6e-9d0f-3c1a2b4e6d80"
SANDBOX_ENVIRONMENT = "Production"
SANDBOX_CLIENT_ID = "0b7e2f4a-6c19-4d3e-8a57-91c2d4e6f8a0"
SANDBOX_CLIENT_SECRET = "sbx8Q~SandboxClientSecret.NotForProduction"

COMPANY_NAME = "CRONUS International Ltd."
BC_RESOURCE = "https://api.businesscentral.dynamics.com"
TOKEN_LIFETIME_SECONDS = 3599

SYSTEM_ADMINISTRATOR_ROLE = "System Administrator"
SYSTEM_ADMINISTRATOR_TEMPLATE_ID = "627090ff-40a3-4053-8790-584edc5be201"
INTEGRATION_ROLE = "Business Central Dataverse Integration"
INTEGRATION_ROLE_ID = "a2b18661-9ff5-e911-a812-000d3a0b9028"
INTEGRATION_USER_NAME = "# Business Central Integration"

BC_PREFIX = f"/bc/v2.0/{SANDBOX_TENANT}/{SANDBOX_ENVIRONMENT}/api/v2.0"
DATAVERSE_API_PREFIX = "/dataverse/api/data/v9.2"

BC_BATCH_LIMIT = 100
DATAVERSE_BATCH_LIMIT = 1000
BC_MAX_PAGE_SIZE = 20000
DATAVERSE_MAX_PAGE_SIZE = 5000
