"""Goals in a browser: a manager sets a team goal and assigns a template to two reps, a rep
proposes a goal that the manager approves, the rep checks in, the tree rolls progress up."""

from playwright.sync_api import expect

from reviewapp.goals.models import Goal, GoalState


def test_team_goal_template_proposal_check_in_and_tree(page, browser_login, org, db):
    page.on("dialog", lambda dialog: dialog.accept())

    # The manager sets a team goal and turns it into a template.
    browser_login(org.lead)
    page.goto("/goals/new?scope=team")
    page.get_by_label("Team").select_option(label="Alpha")
    page.get_by_label("Title").fill("Alpha: every account has a plan")
    page.get_by_label("Manual percentage").check()
    page.get_by_role("button", name="Set goal").click()
    expect(page.get_by_role("heading", name="Alpha: every account has a plan")).to_be_visible()
    page.get_by_role("button", name="Save as template").click()
    db.session.expire_all()
    team_goal = db.session.scalar(db.select(Goal).where(Goal.team_id == org.team.id))

    # ...and assigns the template to two reps, aligned to the team goal, after a preview.
    page.goto("/goals/templates")
    page.get_by_role("link", name="Assign…").first.click()
    page.get_by_label("Reps").select_option(
        label=[f"{org.rep.name} (Alpha)", f"{org.rep2.name} (Alpha)"])
    page.get_by_label("Aligns to").select_option(value=str(team_goal.id))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("assignment-preview")).to_contain_text(org.rep2.name)
    # Double-clicked, as people do: every rep gets the goal once (it made two each).
    page.get_by_role("button", name="Assign to 2 reps").dblclick()
    expect(page.get_by_text("Assigned")).to_be_visible()
    db.session.expire_all()
    assigned = db.session.scalars(db.select(Goal).where(
        Goal.owner_id.in_([org.rep.id, org.rep2.id]))).all()
    assert len(assigned) == 2 and all(g.state == GoalState.ACTIVE for g in assigned)
    page.get_by_role("button", name="Log out").click()

    # A rep proposes a goal of their own.
    browser_login(org.rep)
    page.goto("/goals/new")
    page.get_by_label("Title").fill("Run two lunch-and-learns on discovery calls")
    page.get_by_label("Manual percentage").check()
    page.get_by_label("Aligns to").select_option(value=str(team_goal.id))
    page.get_by_role("button", name="Propose goal").click()
    expect(page.get_by_text("Proposed").first).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    # The manager approves it.
    browser_login(org.lead)
    db.session.expire_all()
    proposal = db.session.scalar(db.select(Goal).where(Goal.state == GoalState.PROPOSED))
    page.goto(f"/goals/{proposal.id}")
    page.get_by_test_id("approval").get_by_role("button", name="Approve").click()
    db.session.expire_all()
    assert db.session.get(Goal, proposal.id).state == GoalState.ACTIVE
    page.get_by_role("button", name="Log out").click()

    # The rep checks in on the assigned goal.
    browser_login(org.rep)
    mine = next(g for g in assigned if g.owner_id == org.rep.id)
    page.goto(f"/goals/{mine.id}")
    check_ins = page.get_by_test_id("check-ins")
    check_ins.get_by_label("Progress (%)").fill("60")
    check_ins.get_by_label("Confidence").select_option(index=4)
    check_ins.get_by_label("Note").fill("Plans done for six of ten accounts.")
    check_ins.get_by_role("button", name="Save check-in").dblclick()
    expect(page.get_by_test_id("check-ins")).to_contain_text("Plans done for six of ten")
    db.session.expire_all()
    assert len(db.session.get(Goal, mine.id).check_ins) == 1  # a double click saves one
    # However fast the second click comes, the page sends the form once (app.js is deferred:
    # the text above can show before it has run, so wait for the page to finish loading).
    page.wait_for_load_state("load")
    seen = page.evaluate("""() => {
      const form = document.querySelector("[data-testid=comments] form");
      const seen = [];
      window.addEventListener("submit", (e) => { seen.push(e.defaultPrevented);
                                                  e.preventDefault(); });
      form.requestSubmit(); form.requestSubmit();
      return seen; }""")
    assert seen == [False, True]
    page.reload()

    # The rep's tree shows only what the rep may see...
    page.goto("/goals/tree")
    expect(page.get_by_test_id("tree-team-goal")).to_contain_text("1 not shown to you")
    expect(page.get_by_test_id("tree-team-goal")).not_to_contain_text(org.rep2.name)
    page.get_by_role("button", name="Log out").click()

    # ...the manager's tree rolls all three aligned goals up.
    browser_login(org.lead)
    page.goto("/goals/tree")
    tree = page.get_by_test_id("tree-team-goal")
    expect(tree).to_contain_text("every account has a plan")
    expect(tree).to_contain_text("Run two lunch-and-learns")
    expect(tree).to_contain_text("3 aligned")
    expect(tree).to_contain_text("20%")  # (60 + 0 + 0) / 3 by equal weight
