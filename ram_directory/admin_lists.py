"""Admin change lists that hold at 10,000 accounts and a million rows (issue 11).

Three things made Django's defaults slow there, each fixed here once for every admin that
lists rows of all accounts:

- The account filter listed every account (10,000 links on every page, and a query for them):
  `AccountFilter` takes a typed account ID or login name instead and lists only the account
  chosen.
- Every page counted the whole table, twice (`SELECT COUNT(*)` of the filtered rows and of all
  rows): `show_full_result_count = False` drops the second, and `CappedCountPaginator` counts no
  further than it needs to (an exact count up to 10,000 rows, PostgreSQL's own estimate past
  that on an unfiltered list).
- The default orderings (name, creation time) have no index across accounts, so the first page
  sorted a million rows: the lists open newest first, by primary key, which the primary key's
  index serves (a column header still sorts by that column).
- The search read every row of the table: `IndexedSearchAdmin` asks one indexed question per
  searched column (trigram indexes, `core.trigram`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, IntegerField, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _

from ram_directory.models import Account

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows; an unfiltered list past that takes PostgreSQL's estimate
    of the table's rows (pg_class.reltuples, kept by ANALYZE), so no page scans a whole table
    to print its total."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        capped = queryset.order_by()[: COUNT_CAP + 1].count()
        if capped <= COUNT_CAP:
            return capped
        if not queryset.query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > COUNT_CAP:
                return int(row[0])
        return capped


class AccountFilter(admin.ListFilter):
    """Filter by account without listing the accounts: type an account ID or a login name.

    Django's own `?account__id__exact=<pk>` still works (links built for the default filter)."""

    title = _("account")
    template = "admin/sae_account_filter.html"
    parameter_name = "account"  # what the operator types
    pk_parameter = "account__id__exact"
    # The path from the listed model to its account (e.g. "ram_user__account").
    field_path = "account"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in (self.parameter_name, self.pk_parameter):
            value = params.pop(name, None)
            if value:
                self.used_parameters[name] = value[-1] if isinstance(value, list) else value
        self.typed = str(self.used_parameters.get(self.parameter_name, "")).strip()[:128]

    @cached_property
    def account(self) -> Account | None:
        pk = str(self.used_parameters.get(self.pk_parameter, ""))
        if pk.isdigit():
            return Account.objects.filter(pk=int(pk)).first()
        if self.typed and "\x00" not in self.typed:
            return Account.objects.filter(
                Q(account_id=self.typed) | Q(login_name__iexact=self.typed)
            ).first()
        return None

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [self.parameter_name, self.pk_parameter]

    def queryset(self, request, queryset):
        if not self.used_parameters:
            return queryset
        if self.account is None:
            return queryset.none()  # a typed account that does not exist matches nothing
        return queryset.filter(**{self.field_path: self.account})

    def choices(self, changelist):
        # The form that types an account keeps the list's other filters.
        self.hidden_fields = [
            (name, value)
            for name, values in changelist.get_filters_params().items()
            if name not in self.expected_parameters()
            for value in (values if isinstance(values, list) else [values])
        ]
        if changelist.query:
            self.hidden_fields.append(("q", changelist.query))
        yield {
            "selected": not self.used_parameters,
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": _("All"),
        }
        if self.account is not None:
            yield {
                "selected": True,
                "query_string": changelist.get_query_string(
                    {self.pk_parameter: self.account.pk}, [self.parameter_name]
                ),
                "display": str(self.account),
            }

    @property
    def label(self) -> str:
        return f"{_('account ID')} / {_('login name')}"


def account_filter(path: str) -> type[AccountFilter]:
    """An AccountFilter for a model whose account is reached by `path`."""
    return type("AccountFilter", (AccountFilter,), {"field_path": path})


def count_of(model: type[Model], field: str, *, outer: str = "pk", **where: Any) -> Coalesce:
    """How many `model` rows (those matching `where`) have `field` equal to the row's `outer`
    column, its primary key by default, as a subquery: counted for the rows a page shows, not
    (as Count() with GROUP BY would) for every row of the table."""
    counted = (
        model.objects.filter(**{field: OuterRef(outer)}, **where)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def count_column(annotation: str, description: str):
    """A change-list column showing a count the admin's get_queryset annotates (count_of),
    sortable by it."""

    @admin.display(description=description, ordering=annotation)
    def column(model_admin, obj: Model) -> int:
        return getattr(obj, annotation)

    return column


class IndexedSearchAdmin(admin.ModelAdmin):
    """The admin's search, written so that PostgreSQL can use an index per searched column.

    Django ORs `col ILIKE '%term%'` over every search field, across joined tables, which no
    index serves: each search read the whole table (2.2 s over a million contacts). Here each
    field is its own subquery, and the matches are their UNION: a trigram index (see
    `trigram_indexes`) answers each one. The rule is Django's: every term must match some
    field, without regard to case. Other databases keep Django's own search."""

    def get_search_results(self, request, queryset, search_term):
        if connection.vendor != "postgresql" or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        fields = self.get_search_fields(request)
        for term in smart_split(search_term):
            if term and term[0] in "\"'" and term[0] == term[-1]:
                term = unescape_string_literal(term)
            if not term:
                continue
            if "\x00" in term:
                return queryset.none(), False  # nothing holds it; PostgreSQL refuses it
            branches = [
                self.model._default_manager.filter(**{f"{field}__icontains": term})
                .order_by()
                .values("pk")
                for field in fields
            ]
            matching = branches[0].union(*branches[1:]) if len(branches) > 1 else branches[0]
            queryset = queryset.filter(pk__in=matching)
        return queryset, False


class LargeListAdmin(IndexedSearchAdmin):
    """What every admin of rows of all accounts shares (see the module's docstring)."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ("-pk",)
