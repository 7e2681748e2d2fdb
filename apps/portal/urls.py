from django.urls import path

from apps.portal.views import accounts, devices, printers, rules, staff

app_name = "portal"

urlpatterns = [
    # staff
    path("inbox/", staff.inbox, name="inbox"),
    path("inbox/upload/", staff.upload, name="upload"),
    path("inbox/release-all/", staff.release_all, name="release_all"),
    path("jobs/<int:job_id>/", staff.job_detail, name="job"),
    path("jobs/<int:job_id>/quote/", staff.job_quote_fragment, name="job_quote"),
    path("jobs/<int:job_id>/cancel/", staff.job_cancel, name="job_cancel"),
    path("jobs/<int:job_id>/pages/<int:page>.png", staff.thumbnail, name="thumbnail"),
    path("history/", staff.history, name="history"),
    path("account/", staff.my_account, name="my_account"),
    path("devices/", devices.devices, name="devices"),
    path("devices/token/", devices.printing_token_new, name="printing_token_new"),
    path("devices/token/revoke/", devices.printing_token_end, name="printing_token_revoke"),
    path("devices/default-printer/", devices.default_printer, name="default_printer"),
    # printer admins
    path("manage/printers/", printers.printers, name="printers"),
    path("manage/printers/add/", printers.printer_new, name="printer_new"),
    path("manage/printers/import/", printers.printer_import, name="printer_import"),
    path("manage/printers/<int:printer_id>/", printers.printer_edit, name="printer"),
    path(
        "manage/printers/<int:printer_id>/disable/",
        printers.printer_disable,
        name="printer_disable",
    ),
    path("manage/printers/<int:printer_id>/check/", printers.printer_check, name="printer_check"),
    path("manage/printer-groups/", printers.printer_groups, name="printer_groups"),
    path("manage/printer-groups/<int:group_id>/", printers.printer_group, name="printer_group"),
    path(
        "manage/printer-groups/<int:group_id>/delete/",
        printers.printer_group_remove,
        name="printer_group_delete",
    ),
    path("manage/rules/", rules.rules, name="rules"),
    path("manage/rules/new/", rules.rule_new, name="rule_new"),
    path("manage/rules/<int:rule_file_id>/", rules.rule_edit, name="rule"),
    path("manage/rules/versions/<int:version_id>/", rules.rule_version, name="rule_version"),
    path(
        "manage/rules/versions/<int:version_id>/activate/",
        rules.rule_activate,
        name="rule_activate",
    ),
    path("manage/rules/versions/<int:version_id>/diff/", rules.rule_diff, name="rule_diff"),
    path(
        "manage/rules/versions/<int:version_id>/explain/", rules.rule_explain, name="rule_explain"
    ),
    # accounts and users
    path("manage/accounts/", accounts.accounts, name="accounts"),
    path("manage/accounts/shared/new/", accounts.shared_account_new, name="shared_account_new"),
    path("manage/accounts/<int:account_id>/", accounts.account_detail, name="account"),
    *(
        path(
            f"manage/accounts/<int:account_id>/{change}/",
            accounts.account_change,
            {"change": change},
            name=f"account_{change}",
        )
        for change in accounts.ACCOUNT_CHANGES
    ),
    path("manage/allowances/", accounts.allowances, name="allowances"),
    path("manage/allowances/new/", accounts.allowance_new, name="allowance_new"),
    path("manage/allowances/<int:allowance_id>/", accounts.allowance_edit, name="allowance"),
    path(
        "manage/allowances/<int:allowance_id>/end/",
        accounts.allowance_stop,
        name="allowance_end",
    ),
    path("manage/users/", accounts.users, name="users"),
    path("manage/users/<int:user_id>/", accounts.user_edit, name="user"),
]
