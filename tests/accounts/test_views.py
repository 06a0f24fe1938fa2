"""The home page and the base layout every signed-in page shares."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from supportops.accounts.models import Membership, Role
from tests.conftest import PASSWORD, make_user


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def knowledge_url(slug: str = "acme") -> str:
    return reverse("knowledge:article-list", args=[slug])


def test_anonymous_home_redirects_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_each_role_lands_where_it_works(client, owner, manager, teammate, finance):
    inbox = reverse("inbox:index", args=["acme"])
    for user, landing in (
        (owner, inbox),
        (manager, inbox),
        (teammate, inbox),
        (finance, reverse("finance-home", args=["acme"])),
    ):
        response = login(client, user).get(reverse("home"))
        assert (response.status_code, response["Location"]) == (302, landing), user.email
        client.logout()


def test_finance_page_says_what_it_can_do_and_links_to_it(client, finance):
    response = login(client, finance).get(reverse("home"), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("finance-home", args=["acme"])
    assert "Available today" in html
    assert "Coming soon" not in html  # every finance feature is built
    assert f'<a href="{reverse("mfa_index")}"><strong>Secure your account</strong></a>' in html
    assert "Cost per resolution" in html and "CSV exports" in html
    assert f'<a href="{reverse("rollout:index", args=["acme"])}"><strong>Rollout readout' in html
    assert knowledge_url() not in html  # finance gets 403 there, so no link to it
    assert re.search(r'aria-current="page">Finance</a>', html)


def test_finance_features_with_a_url_are_linked_and_the_rest_are_coming(client, finance):
    from supportops.accounts import finance as features

    original = features.FINANCE_FEATURES
    features.FINANCE_FEATURES = (
        features.FinanceFeature(
            "Knowledge costs", "A stand-in.", url_name="knowledge:article-list"
        ),
        features.FinanceFeature("Not routed yet", "Its URL name does not exist.", url_name="nope"),
    )
    try:
        from supportops.accounts import views

        views.FINANCE_FEATURES = features.FINANCE_FEATURES
        html = login(client, finance).get(reverse("finance-home", args=["acme"])).content.decode()
    finally:
        features.FINANCE_FEATURES = original
        views.FINANCE_FEATURES = original
    assert f'<a href="{knowledge_url()}"><strong>Knowledge costs</strong></a>' in html
    assert '<strong>Not routed yet</strong> <span class="badge">soon</span>' in html


def test_agents_and_managers_do_not_see_the_finance_page(client, teammate, manager):
    for user in (teammate, manager):
        assert login(client, user).get(reverse("finance-home", args=["acme"])).status_code == 403
        client.logout()


def test_user_without_a_workspace_is_told_how_to_get_one(client, db):
    loner = make_user("lone@example.com")
    html = login(client, loner).get(reverse("home")).content.decode()
    assert "not a member of any workspace" in html
    assert "lone@example.com" in html


def test_user_with_two_workspaces_chooses_one(client, owner, workspace, outsider):
    other = outsider.memberships.get().workspace
    Membership.objects.create(user=owner, workspace=other, role=Role.AGENT)
    response = login(client, owner).get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    workspace_home = reverse("workspace-home", args=["acme"])
    assert workspace_home in html and reverse("workspace-home", args=["other"]) in html
    # A workspace's address takes the member to their role's start page there.
    response = client.get(reverse("workspace-home", args=["other"]))
    assert response["Location"] == reverse("inbox:index", args=["other"])


def test_layout_has_navigation_and_account_controls(client, owner, workspace):
    html = login(client, owner).get(knowledge_url()).content.decode()
    assert re.search(rf'<a href="{knowledge_url()}" aria-current="page">Knowledge</a>', html)
    assert "nav-soon" not in html  # every section is built
    built = (
        ("Inbox", "inbox"),
        ("Rollout", "rollout"),
        ("Dashboards", "dashboards"),
        ("Exports", "exports"),
        ("Settings", "bot"),
    )
    for label, path in built:  # real links
        assert re.search(rf'<a href="/w/acme/{path}/"[^>]*>{label}</a>', html)
    assert "alice@acme.example" in html
    assert "Acme Support" in html
    assert f'href="{reverse("mfa_index")}"' in html
    logout = re.search(
        r'<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken"',
        html,
    )
    assert logout and logout.group(1) == reverse("account_logout")


def test_layout_loads_local_htmx_and_sends_csrf_header(client, owner, workspace):
    html = login(client, owner).get(knowledge_url()).content.decode()
    assert '<script src="/static/django_htmx/htmx-2.min.js" defer></script>' in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    token = re.search(r"""<body hx-headers='\{"X-CSRFToken": "([A-Za-z0-9]+)"\}'>""", html)
    assert token and len(token.group(1)) >= 32
    assert finders.find("django_htmx/htmx-2.min.js")
    assert finders.find("css/app.css") and finders.find("js/app.js")


def test_workspace_switcher_only_with_several_memberships(client, owner, workspace, outsider):
    login(client, owner)
    assert 'class="switcher"' not in client.get(knowledge_url()).content.decode()
    Membership.objects.create(
        user=owner, workspace=outsider.memberships.get().workspace, role=Role.MANAGER
    )
    html = client.get(knowledge_url()).content.decode()
    assert 'class="switcher"' in html
    assert f'href="{reverse("workspace-home", args=["other"])}"' in html


def test_user_email_is_escaped_in_the_layout(client, workspace):
    odd = make_user('"><b>x</b>@acme.example')
    Membership.objects.create(user=odd, workspace=workspace, role=Role.AGENT)
    html = login(client, odd).get(knowledge_url()).content.decode()
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_login_page_uses_the_layout_and_signs_in(client, owner, workspace):
    page = client.get(reverse("account_login"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "/static/css/app.css" in html and 'name="login"' in html
    assert "sign up" not in html.lower()  # signup is closed
    response = client.post(
        reverse("account_login"), {"login": owner.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("inbox:index", args=["acme"])
    assert "Successfully signed in" in response.content.decode()


def test_wrong_password_is_refused_on_the_login_page(client, owner):
    response = client.post(reverse("account_login"), {"login": owner.email, "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_form_signs_out(client, owner, workspace):
    login(client, owner)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(knowledge_url()).status_code == 302  # back to login


def test_mfa_setup_page_is_reachable(client, owner):
    response = login(client, owner).get(reverse("mfa_index"))
    assert response.status_code == 200
    assert "Authenticator" in response.content.decode()
