"""Long operations (customer import, report generation) run in the background with progress."""
