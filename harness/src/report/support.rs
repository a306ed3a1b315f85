//! The escalation bundle support asks for (SUP-1), one Markdown file per failed trial.
use crate::trial::outcome::TrialOutcome;

pub fn render(o: &TrialOutcome) -> String {
    let mut md = String::new();
    let line = |md: &mut String, k: &str, v: &str| md.push_str(&format!("- **{k}:** {v}\n"));
    md.push_str(&format!("# Support evidence: {}\n\n", o.name));
    md.push_str(&format!(
        "Scenario: {} (`{}`), covers {}\n\n",
        o.scenario_name,
        o.scenario_path,
        o.covers.join(", ")
    ));
    md.push_str("## What support asks for\n\n");
    let error = o
        .error_text
        .clone()
        .or_else(|| {
            o.message
                .as_ref()
                .and_then(|m| m.lines().next().map(str::to_string))
        })
        .unwrap_or_else(|| "(no error text on the page)".into());
    line(
        &mut md,
        "Exact error message",
        &format!("`{}`", error.replace('`', "'")),
    );
    let shot = o
        .screenshots
        .last()
        .and_then(|s| s.file.clone())
        .map(|f| format!("[{f}](../{f})"))
        .unwrap_or_else(|| "(none captured)".into());
    line(&mut md, "Screenshot", &shot);
    let users = if o.users.is_empty() {
        "(none)".to_string()
    } else {
        o.users.join(", ")
    };
    line(&mut md, "Account email(s)", &users);
    line(
        &mut md,
        "Sign-in method",
        &format!("SSO ({}, IdP profile {})", o.protocol, o.idp_profile),
    );
    line(
        &mut md,
        "One user or several",
        if o.users.len() > 1 {
            "several users in this scenario"
        } else {
            "one user"
        },
    );
    line(&mut md, "Date and time", &format!("{} (UTC)", o.started_at));
    line(
        &mut md,
        "Browser and OS",
        &format!("{} on {}", o.browser, o.os),
    );
    let idp = o
        .context
        .get("idp.base_url")
        .cloned()
        .unwrap_or_else(|| "(none)".into());
    let tenant = o.context.get("idp.tenant").cloned().unwrap_or_default();
    line(
        &mut md,
        "IdP",
        &format!(
            "mock IdP {idp} tenant `{tenant}` ({} profile)",
            o.idp_profile
        ),
    );
    let org = o
        .context
        .get("org.id")
        .cloned()
        .unwrap_or_else(|| "(no organisation created)".into());
    line(&mut md, "Organisation ID", &format!("`{org}`"));
    line(&mut md, "Direct sign-in or Tile URL", &o.sign_in_path);
    line(
        &mut md,
        "Final URL",
        o.final_url.as_deref().unwrap_or("(unknown)"),
    );
    md.push_str("\n## Steps already done\n\n");
    for s in &o.steps {
        md.push_str(&format!(
            "{}. [{}] `{}` {} — {}{}\n",
            s.index + 1,
            s.phase,
            s.kind,
            s.detail.replace('`', "'"),
            if s.ok { "ok" } else { "FAILED" },
            s.note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ));
    }
    md.push_str("\n## Failure\n\n```text\n");
    md.push_str(o.message.as_deref().unwrap_or(""));
    md.push_str("\n```\n\n## HTTP status timeline\n\n");
    for h in &o.http {
        md.push_str(&format!(
            "- +{} ms {} {} {}\n",
            h.at_ms,
            h.method.as_deref().unwrap_or("GET"),
            h.status,
            h.url
        ));
    }
    md
}
