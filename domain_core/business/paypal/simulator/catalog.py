"""Route handlers for catalog products and billing plans."""

from typing import Any

from promptsales.domain_core.business.paypal.simulator.errors import invalid, issue, not_found
from promptsales.domain_core.business.paypal.simulator.models import Call, Plan, Product
from promptsales.domain_core.business.paypal.simulator.validation import page_of, read_cycles, read_text
from promptsales.domain_core.business.paypal.simulator.views import SimulatorViews


class CatalogRoutes(SimulatorViews):
    """/v1/catalogs/products and /v1/billing/plans."""

    # ----------------------------------------------------------------------------------------- catalog

    def _create_product(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/catalog-products/v1/#products_create
        issues: list[dict[str, str]] = []
        name = read_text(call.body, "name", "/name", issues, required=True, max_length=127)
        kind = call.body.get("type", "PHYSICAL")
        if kind not in ("PHYSICAL", "DIGITAL", "SERVICE"):
            issues.append(issue("/type", "INVALID_PARAMETER_VALUE", "type must be PHYSICAL, DIGITAL or SERVICE."))
        description = read_text(call.body, "description", "/description", issues, required=False, max_length=256)
        if issues or name is None:
            raise invalid(*issues)
        product = Product(self._ref("PROD-", 17), name, str(kind), description, self.clock())
        self._products[product.id] = product
        return 201, self._product_json(product)

    def _list_products(self, call: Call) -> tuple[int, Any]:
        page = page_of(call, list(self._products.values()))
        return 200, {"products": [self._product_json(p) for p in page], "links": []}

    def _get_product(self, call: Call) -> tuple[int, Any]:
        product = self._products.get(call.params["product_id"])
        if product is None:
            raise not_found("product_id", "The specified product does not exist.")
        return 200, self._product_json(product)

    # ------------------------------------------------------------------------------------------- plans

    def _create_plan(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#plans_create
        body = call.body
        issues: list[dict[str, str]] = []
        product_id = read_text(body, "product_id", "/product_id", issues, required=True, max_length=50)
        name = read_text(body, "name", "/name", issues, required=True, max_length=127)
        description = read_text(body, "description", "/description", issues, required=False, max_length=127)
        status = body.get("status", "ACTIVE")
        if status not in ("CREATED", "ACTIVE", "INACTIVE"):
            issues.append(issue("/status", "INVALID_PARAMETER_VALUE", "status must be CREATED, ACTIVE or INACTIVE."))
        cycles = read_cycles(body.get("billing_cycles"), issues)
        preferences = body.get("payment_preferences", {})
        threshold = preferences.get("payment_failure_threshold", 0) if isinstance(preferences, dict) else None
        if not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 <= threshold <= 999:
            issues.append(
                issue(
                    "/payment_preferences/payment_failure_threshold",
                    "INVALID_PARAMETER_VALUE",
                    "Must be an integer from 0 to 999.",
                )
            )
        if issues or product_id is None or name is None or cycles is None or not isinstance(threshold, int):
            raise invalid(*issues)
        if product_id not in self._products:
            raise not_found("/product_id", "The specified product does not exist.", location="body")
        plan = Plan(
            id=self._ref("P-", 24),
            product_id=product_id,
            name=name,
            status=str(status),
            description=description,
            cycles=cycles,
            failure_threshold=threshold,
            auto_bill_outstanding=bool(preferences.get("auto_bill_outstanding", True)),
            created=self.clock(),
        )
        self._plans[plan.id] = plan
        return 201, self._plan_json(plan)

    def _list_plans(self, call: Call) -> tuple[int, Any]:
        product_id = call.query.get("product_id")
        plans = [p for p in self._plans.values() if product_id is None or p.product_id == product_id]
        return 200, {"plans": [self._plan_json(p) for p in page_of(call, plans)], "links": []}

    def _get_plan(self, call: Call) -> tuple[int, Any]:
        return 200, self._plan_json(self._plan(call.params["plan_id"], "plan_id"))
