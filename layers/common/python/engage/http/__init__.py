"""HTTP plumbing shared by the API functions: resolver factory, error mapping, caller groups.

The routers live here (in the layer) rather than beside `functions/api/app.py` because every
function's entry module is `app.py` at the root of its own package in Lambda; a layer package
imports the same way in Lambda, in tests and in the local runtime.
"""
