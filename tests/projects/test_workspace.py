"""The workspace both parties of a project share: team, milestones, tasks and threads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.core.tenancy import caller_scope
from opencdmo.notifications.models import Notification
from opencdmo.notifications.services import overdue_for
from opencdmo.projects import workspace_services as services
from opencdmo.projects.workspace import Message, Milestone, Task, TeamMember
from tests.conftest import World
from tests.projects.workspace_world import awarded_project

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def project(world: World) -> Any:
    return awarded_project(world)


def test_members_of_both_parties_join_the_team(world: World, project: Any) -> None:
    """A CDMO planner adds the sponsor's QA, and the sponsor's manager adds the CDMO's MSAT."""
    cdmo, sponsor = (
        world.user("alpha-bio", "cdmo_planner"),
        world.user("sponsor-one", "sponsor_manager"),
    )
    services.add_member(
        project, actor=cdmo, user=world.user("sponsor-one", "sponsor_qa"), role="qa"
    )
    services.add_member(
        project, actor=sponsor, user=world.user("alpha-bio", "cdmo_msat"), role="msat"
    )
    with scopes_disabled():
        roles = sorted(TeamMember.objects.filter(project=project).values_list("role", flat=True))
        entries = AuditEntry.objects.filter(action="opencdmo.team_member.created").count()
    assert roles == ["msat", "qa"]
    assert entries == 2


def test_a_third_organisation_cannot_join_or_write(world: World, project: Any) -> None:
    """A user of another CDMO is refused as a member by name, and cannot write at all (404)."""
    planner = world.user("alpha-bio", "cdmo_planner")
    with pytest.raises(ValidationError) as refused:
        services.add_member(
            project, actor=planner, user=world.user("beta-pharma", "cdmo_qa"), role="qa"
        )
    assert "neither party" in str(refused.value.message_dict["user"])
    with pytest.raises(Http404):
        services.post_message(project, actor=world.user("beta-pharma", "cdmo_qa"), body="hello")


def test_milestone_overdue_until_done_with_its_date(world: World, project: Any) -> None:
    """A milestone past its planned date is overdue; done needs the actual date."""
    actor = world.user("alpha-bio", "cdmo_planner")
    milestone = services.add_milestone(
        project,
        actor=actor,
        name="Process transfer package",
        kind="tech_transfer",
        planned_date=TODAY - dt.timedelta(days=3),
    )
    assert milestone.overdue
    with caller_scope(actor):
        with pytest.raises(ValidationError) as refused:
            services.update_milestone(milestone, actor=actor, reason="Reached", state="done")
        assert "actual_date" in refused.value.message_dict
        services.update_milestone(
            milestone, actor=actor, reason="Reached", state="done", actual_date=TODAY
        )
    milestone.refresh_from_db()
    assert milestone.state == Milestone.State.DONE
    assert not milestone.overdue


def test_task_of_a_member_is_overdue_after_its_due_date(world: World, project: Any) -> None:
    owner = world.user("sponsor-one", "sponsor_qa")
    task = services.add_task(
        project,
        actor=world.user("alpha-bio", "cdmo_planner"),
        title="Send the reference standard",
        owner=owner,
        due_date=TODAY - dt.timedelta(days=1),
    )
    assert task.overdue
    with caller_scope(owner):
        services.complete_task(task, actor=owner)
    with scopes_disabled():
        assert Task.objects.get(pk=task.pk).done


def test_mentions_name_members_of_either_party_only(world: World, project: Any) -> None:
    """``@username`` of either party's member is recorded; others' names are not."""
    body = "Please check, @sponsor-one-sponsor_qa and @beta-pharma-cdmo_qa and @nobody."
    message = services.post_message(project, actor=world.user("alpha-bio", "cdmo_qa"), body=body)
    assert message.mentions == ["sponsor-one-sponsor_qa"]


def test_a_mention_notifies_the_member_once(world: World, project: Any) -> None:
    """The mentioned member gets one inbox entry linking to the thread; the author none."""
    author = world.user("alpha-bio", "cdmo_qa")
    body = "@sponsor-one-sponsor_qa please sign; thanks @sponsor-one-sponsor_qa, @alpha-bio-cdmo_qa"
    services.post_message(project, actor=author, body=body)
    with scopes_disabled():
        found = list(Notification.objects.filter(event="message.mentioned"))
    assert [n.user_id for n in found] == [world.user("sponsor-one", "sponsor_qa").pk]
    assert found[0].link == f"/projects/{project.pk}/workspace/"


def test_overdue_tasks_reach_the_owners_digest(world: World, project: Any) -> None:
    owner = world.user("sponsor-one", "sponsor_qa")
    services.add_task(
        project,
        actor=world.user("alpha-bio", "cdmo_planner"),
        title="Return the signed protocol",
        owner=owner,
        due_date=TODAY - dt.timedelta(days=1),
    )
    titles = [item.title for item in overdue_for(owner)]
    assert titles == [f"Return the signed protocol ({project})"]


def test_workspace_page_shows_team_overdue_and_thread(
    world: World, project: Any, client_for: Any
) -> None:
    """The sponsor reads the workspace: its team, an overdue task and the thread."""
    planner = world.user("alpha-bio", "cdmo_planner")
    services.add_member(project, actor=planner, user=planner, role="planner")
    services.add_task(
        project,
        actor=planner,
        title="Approve the batch record template",
        owner=world.user("sponsor-one", "sponsor_qa"),
        due_date=TODAY - dt.timedelta(days=2),
    )
    services.post_message(project, actor=planner, body="Kick-off on Monday.")
    page = client_for(world.user("sponsor-one", "sponsor_viewer")).get(
        f"/projects/{project.pk}/workspace/"
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "alpha-bio-cdmo_planner" in text
    assert 'data-testid="overdue"' in text
    assert "Kick-off on Monday." in text


def test_sponsor_posts_to_the_thread_from_the_page(
    world: World, project: Any, client_for: Any
) -> None:
    client = client_for(world.user("sponsor-one", "sponsor_viewer"))
    answer = client.post(f"/projects/{project.pk}/workspace/messages/", {"body": "Received."})
    assert answer.status_code == 302
    with scopes_disabled():
        assert Message.objects.get(project=project).body == "Received."


def test_record_thread_shows_only_its_messages(world: World, project: Any, client_for: Any) -> None:
    """A milestone's thread holds its own messages, not the project's."""
    planner = world.user("alpha-bio", "cdmo_planner")
    milestone = services.add_milestone(
        project, actor=planner, name="PPQ batch 1", kind="manufacturing", planned_date=TODAY
    )
    services.post_message(project, actor=planner, body="Project-wide note.")
    services.post_message(project, actor=planner, body="Suite booked.", record=milestone)
    page = client_for(world.user("sponsor-one", "sponsor_qa")).get(
        f"/projects/{project.pk}/workspace/?record=projects.milestone:{milestone.pk}"
    )
    text = page.content.decode()
    assert "Suite booked." in text
    assert "Project-wide note." not in text


def test_record_thread_needs_a_record_both_parties_read(
    world: World, project: Any, client_for: Any
) -> None:
    """The thread of a record the sponsor cannot read (the site's private profile) is 404."""
    client = client_for(world.user("sponsor-one", "sponsor_qa"))
    private = world.sites["alpha-bio"].pk
    url = f"/projects/{project.pk}/workspace/?record=network.siteprivateprofile:{private}"
    assert client.get(url).status_code == 404
    assert client.get(f"/projects/{project.pk}/workspace/?record=no.such:1").status_code == 404


def test_third_organisation_gets_404_on_every_workspace_route(
    world: World, project: Any, client_for: Any
) -> None:
    planner = world.user("alpha-bio", "cdmo_planner")
    milestone = services.add_milestone(
        project, actor=planner, name="Kick-off", kind="tech_transfer", planned_date=TODAY
    )
    task = services.add_task(project, actor=planner, title="T", owner=planner, due_date=TODAY)
    other = client_for(world.user("beta-pharma", "cdmo_admin"))
    assert other.get(f"/projects/{project.pk}/workspace/").status_code == 404
    for url in (
        f"/projects/{project.pk}/workspace/messages/",
        f"/projects/{project.pk}/workspace/team/",
        f"/projects/{project.pk}/workspace/milestones/",
        f"/projects/{project.pk}/workspace/tasks/",
        f"/milestones/{milestone.pk}/",
        f"/tasks/{task.pk}/done/",
    ):
        assert other.post(url, {"body": "x", "reason": "x"}).status_code == 404, url
