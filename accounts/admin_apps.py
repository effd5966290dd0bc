"""The admin app's configuration; apart from accounts.admin_site, which needs
the app registry loaded, while INSTALLED_APPS imports this before it is."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """django.contrib.admin, served by accounts.admin_site.StaffAdminSite."""

    default_site = "accounts.admin_site.StaffAdminSite"
