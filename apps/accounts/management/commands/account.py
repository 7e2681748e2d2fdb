"""`manage.py account ...`: look at accounts and move money from the command line.

NAME is a username (their personal account) or a shared account's name; write user:NAME or
shared:NAME when one name is both. Every refusal is one line naming what was wrong, with a
non-zero exit status, and nothing written.
"""

from __future__ import annotations

import json
from argparse import ArgumentTypeError
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.accounts.errors import AccountError, AccountNotFound
from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.money import format_money, parse_amount
from apps.accounts.movements import (
    account_adjust,
    account_deposit,
    account_refund,
    account_set_credit_limit,
    account_transfer,
)
from apps.accounts.selectors import account_resolve, account_transactions, ledger_drifts
from apps.accounts.services import (
    personal_account_ensure,
    shared_account_create,
    shared_account_members_add,
    shared_account_members_remove,
)
from printmgmt.english import counted

# More than a terminal shows; the database could not take a number of any size.
MAX_TRANSACTIONS_SHOWN = 100_000


def _transactions_shown(text: str) -> int:
    """`show --limit`: a whole number from 0 to MAX_TRANSACTIONS_SHOWN."""
    try:
        count = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number.") from None
    if not 0 <= count <= MAX_TRANSACTIONS_SHOWN:
        raise ArgumentTypeError(f"{count} is not from 0 to {MAX_TRANSACTIONS_SHOWN}.")
    return count


class Command(BaseCommand):
    help = (
        "Show accounts and move money: show, deposit, adjust, limit, transfer, refund, shared "
        "create, shared add-members, shared remove-members, audit. NAME is a username or a "
        "shared account's name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        show = actions.add_parser("show", help="Balance, credit limit and last transactions.")
        show.add_argument("name", metavar="USER-OR-ACCOUNT")
        show.add_argument("--json", action="store_true", help="Print one JSON object.")
        show.add_argument(
            "--limit",
            type=_transactions_shown,
            default=20,
            help=f"How many transactions (0 to {MAX_TRANSACTIONS_SHOWN}).",
        )

        deposit = actions.add_parser("deposit", help="Put money into an account.")
        deposit.add_argument("name", metavar="NAME")
        deposit.add_argument("amount", metavar="AMOUNT")
        deposit.add_argument("--reason", required=True)
        self._by(deposit)

        adjust = actions.add_parser("adjust", help="Correct a balance up or down (AMOUNT < 0).")
        adjust.add_argument("name", metavar="NAME")
        adjust.add_argument("amount", metavar="AMOUNT")
        adjust.add_argument("--reason", required=True)
        self._by(adjust)

        limit = actions.add_parser("limit", help="Set how far below zero the balance may go.")
        limit.add_argument("name", metavar="NAME")
        limit.add_argument("amount", metavar="AMOUNT")
        limit.add_argument("--reason", default="")
        self._by(limit)

        transfer = actions.add_parser("transfer", help="Move money from one account to another.")
        transfer.add_argument("source", metavar="FROM")
        transfer.add_argument("target", metavar="TO")
        transfer.add_argument("amount", metavar="AMOUNT")
        transfer.add_argument("--reason", required=True)
        self._by(transfer)

        refund = actions.add_parser(
            "refund", help="Give back (part of) a print job's charge to the account charged."
        )
        refund.add_argument("job", metavar="JOB-ID", type=int)
        refund.add_argument(
            "amount", metavar="AMOUNT", nargs="?", help="Default: all of it not refunded yet."
        )
        refund.add_argument("--reason", required=True)
        refund.add_argument(
            "--key",
            default="by hand",
            help="The refund's name for this job: running the command again with the same key "
            "refunds nothing more (default: 'by hand'); another key refunds again, never more "
            "than the charge.",
        )
        self._by(refund)

        shared = actions.add_parser("shared", help="Shared accounts.")
        shared_actions = shared.add_subparsers(dest="shared_action", required=True)
        create = shared_actions.add_parser("create", help="Open a shared account.")
        create.add_argument("name", metavar="NAME")
        self._members(create)
        create.add_argument("--credit-limit", default="0", metavar="AMOUNT")
        create.add_argument("--description", default="")
        self._by(create)
        add = shared_actions.add_parser("add-members", help="Let more users or groups charge.")
        add.add_argument("name", metavar="NAME")
        self._members(add)
        self._by(add)
        remove = shared_actions.add_parser(
            "remove-members", help="Stop users or groups from charging."
        )
        remove.add_argument("name", metavar="NAME")
        self._members(remove)
        self._by(remove)

        audit = actions.add_parser("audit", help="Check every balance against its ledger.")
        audit.add_argument("--json", action="store_true")

    @staticmethod
    def _by(parser: CommandParser) -> None:
        parser.add_argument(
            "--by",
            metavar="USER",
            help="Act as this user (their manage_accounts permission is checked); "
            "without it the command acts as the system.",
        )

    @staticmethod
    def _members(parser: CommandParser) -> None:
        parser.add_argument(
            "--member",
            action="append",
            default=[],
            metavar="USER|@GROUP",
            help="A member user, or a group written @GROUP; may be repeated.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "shared":
            action = f"shared_{options['shared_action'].replace('-', '_')}"
        handler: Callable[[dict[str, Any]], None] = getattr(self, f"_{action}")
        try:
            handler(options)
        except AccountError as error:
            raise CommandError(str(error)) from None

    # ------------------------------------------------------------ actions

    def _show(self, options: dict[str, Any]) -> None:
        account = _resolve(options["name"])
        entries = account_transactions(account, options["limit"])
        if options["json"]:
            self.stdout.write(json.dumps(_account_json(account, entries), indent=2))
            return
        self.stdout.write(f"{account.label} ({account.currency})")
        self.stdout.write(f"  balance       {format_money(account.balance):>12}")
        self.stdout.write(f"  credit limit  {format_money(account.credit_limit):>12}")
        self.stdout.write(f"  available     {format_money(account.available):>12}")
        if not entries:
            self.stdout.write("  no transactions")
            return
        self.stdout.write(f"  last {counted(len(entries), 'transaction')}, newest first:")
        for entry in entries:
            when = timezone.localtime(entry.created).strftime("%Y-%m-%d %H:%M")
            by = entry.user.username if entry.user else "system"
            job = f" job {entry.job_id}" if entry.job_id is not None else ""
            self.stdout.write(
                f"  {when}  {entry.kind:<12} {_signed(entry.amount):>12}  "
                f"→ {format_money(entry.balance_after):>10}  {by}{job}  {entry.reason}"
            )

    def _deposit(self, options: dict[str, Any]) -> None:
        account = _resolve(options["name"])
        amount = parse_amount(options["amount"])
        entry = account_deposit(
            account.pk, amount, actor=_actor(options["by"]), reason=options["reason"]
        )
        self._done(account, entry)

    def _adjust(self, options: dict[str, Any]) -> None:
        account = _resolve(options["name"])
        amount = parse_amount(options["amount"], negative=True)
        entry = account_adjust(
            account.pk, amount, actor=_actor(options["by"]), reason=options["reason"]
        )
        self._done(account, entry)

    def _limit(self, options: dict[str, Any]) -> None:
        account = _resolve(options["name"])
        limit = parse_amount(options["amount"], label="credit limit")
        account_set_credit_limit(
            account.pk, limit, actor=_actor(options["by"]), reason=options["reason"]
        )
        self.stdout.write(f"{account.label}: credit limit {format_money(limit)}")

    def _transfer(self, options: dict[str, Any]) -> None:
        source = _resolve(options["source"])
        target = _resolve(options["target"])
        amount = parse_amount(options["amount"])
        out, into = account_transfer(
            source.pk, target.pk, amount, actor=_actor(options["by"]), reason=options["reason"]
        )
        self._done(source, out)
        self._done(target, into)

    def _refund(self, options: dict[str, Any]) -> None:
        amount = None if options["amount"] is None else parse_amount(options["amount"])
        started = timezone.now()
        entry = account_refund(
            options["job"],
            amount,
            reason=options["reason"],
            user=_actor(options["by"]),
            key=options["key"],
        )
        if entry is None:
            self.stdout.write(f"job {options['job']}: nothing left to refund")
        elif entry.created < started:
            self.stdout.write(
                f"job {options['job']}: refunded already with key {options['key']!r} "
                f"({format_money(entry.amount)} on {timezone.localtime(entry.created):%Y-%m-%d}); "
                "use another --key to refund it again"
            )
        else:
            self._done(entry.account, entry)

    def _shared_create(self, options: dict[str, Any]) -> None:
        actor = _actor(options["by"])
        users, groups = _members(options["member"])
        limit = parse_amount(options["credit_limit"], label="credit limit")
        account = shared_account_create(
            options["name"],
            actor=actor,
            users=users,
            groups=groups,
            credit_limit=limit,
            description=options["description"],
        )
        members = [user.username for user in users] + [f"@{group.name}" for group in groups]
        self.stdout.write(
            f"opened {account.label}; members: {', '.join(members) if members else 'none'}"
        )

    def _shared_add_members(self, options: dict[str, Any]) -> None:
        self._members_change(options, shared_account_members_add)

    def _shared_remove_members(self, options: dict[str, Any]) -> None:
        self._members_change(options, shared_account_members_remove)

    def _members_change(self, options: dict[str, Any], change: Callable[..., LedgerEntry]) -> None:
        actor = _actor(options["by"])
        account = _resolve(options["name"])
        users, groups = _members(options["member"])
        if not users and not groups:
            raise CommandError("give at least one --member USER or --member @GROUP.")
        entry = change(account.pk, actor=actor, users=users, groups=groups)
        self.stdout.write(f"{account.label}: {entry.reason}")

    def _audit(self, options: dict[str, Any]) -> None:
        drifts = ledger_drifts()
        if options["json"]:
            rows = [
                {
                    "account_id": drift.account_id,
                    "account": drift.account,
                    "balance": str(drift.balance),
                    "ledger_sum": str(drift.ledger_sum),
                }
                for drift in drifts
            ]
            self.stdout.write(json.dumps(rows, indent=2))
        elif not drifts:
            self.stdout.write("every balance equals the sum of its ledger")
        else:
            for drift in drifts:
                self.stdout.write(
                    f"{drift.account}: balance {drift.balance} but ledger sums to "
                    f"{drift.ledger_sum}"
                )
        if drifts:
            raise CommandError(f"{len(drifts)} account(s) differ from their ledger.")

    def _done(self, account: Account, entry: LedgerEntry) -> None:
        self.stdout.write(
            f"{account.label}: {entry.get_kind_display()} {_signed(entry.amount)}, "
            f"balance {format_money(entry.balance_after)} {account.currency}"
        )


def _signed(amount: Decimal) -> str:
    text = format_money(amount)
    return text if amount < 0 else f"+{text}"


def _resolve(name: str) -> Account:
    """account_resolve, opening the personal account of a user who has none yet (users made
    before accounts existed, or by `createsuperuser`)."""
    try:
        return account_resolve(name)
    except AccountNotFound:
        text = name.strip()
        if text.startswith("shared:"):
            raise
        user = User.objects.filter(username=text.removeprefix("user:")).first()
        if user is None:
            raise
        return personal_account_ensure(user)


def _actor(username: str | None) -> User | None:
    if username is None:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--by {username!r}: no such user.")
    return user


def _members(names: list[str]) -> tuple[list[User], list[Group]]:
    """Resolve every --member before anything is written; the first unknown one is refused."""
    users: list[User] = []
    groups: list[Group] = []
    for name in names:
        if name.startswith("@"):
            group = Group.objects.filter(name=name[1:]).first()
            if group is None:
                raise CommandError(f"--member {name!r}: no group named {name[1:]!r}.")
            groups.append(group)
        else:
            user = User.objects.filter(username=name).first()
            if user is None:
                raise CommandError(
                    f"--member {name!r}: no user with that name (write @NAME for a group)."
                )
            users.append(user)
    return users, groups


def _account_json(account: Account, entries: list[LedgerEntry]) -> dict[str, Any]:
    return {
        "account": account.label,
        "kind": account.kind,
        "name": account.owner.username if account.owner else account.name,
        "currency": account.currency,
        "balance": format_money(account.balance),
        "credit_limit": format_money(account.credit_limit),
        "available": format_money(account.available),
        "transactions": [
            {
                "created": entry.created.isoformat(),
                "kind": entry.kind,
                "amount": format_money(entry.amount),
                "balance_after": format_money(entry.balance_after),
                "reason": entry.reason,
                "job_id": entry.job_id,
                "by": entry.user.username if entry.user else None,
            }
            for entry in entries
        ],
    }
