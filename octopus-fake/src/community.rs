//! The community step template library: a few templates listed instance-wide, and the
//! installation route that copies one into a space as a step template.

use serde_json::{json, Value};

use crate::collections::{self as coll, Place};
use crate::context::Ctx;
use crate::reply::{Answer, ApiError};
use crate::spec::spec_of;
use crate::store::text;

/// The community templates the fake lists.
pub(crate) fn library() -> Vec<Value> {
    vec![
        json!({
            "Id": "CommunityActionTemplates-1", "Name": "HTTP - Test URL",
            "Description": "Makes a GET request to a HTTP(S) end point and verifies that a particular status code and response (optional) is returned",
            "ActionType": "Octopus.Script", "Author": "octopus", "Version": 9,
            "Website": "https://library.octopus.com/step-templates/f5fa4c0c-18d0-4a7e-b77b-ac6ba8d5c0ab",
            "Type": "ActionTemplate",
            "Properties": {"Octopus.Action.Script.ScriptBody": "Invoke-WebRequest -Uri $Uri -UseBasicParsing", "Octopus.Action.Script.Syntax": "PowerShell", "Octopus.Action.Script.ScriptSource": "Inline"},
            "Parameters": [{"Id": "a59e3e31-8d3c-4b4f-bc2b-5f0b7c4f4f11", "Name": "Uri", "Label": "URI", "HelpText": "The URI of the endpoint to test.", "DefaultValue": "", "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}],
            "Packages": [],
        }),
        json!({
            "Id": "CommunityActionTemplates-2", "Name": "Slack - Send Simple Notification",
            "Description": "Send a message to a Slack channel.",
            "ActionType": "Octopus.Script", "Author": "octopus", "Version": 15,
            "Website": "https://library.octopus.com/step-templates/99e6f203-3061-4018-9e34-4a3a9c3c3179",
            "Type": "ActionTemplate",
            "Properties": {"Octopus.Action.Script.ScriptBody": "Invoke-RestMethod -Method POST -Uri $HookUrl -Body $Message", "Octopus.Action.Script.Syntax": "PowerShell", "Octopus.Action.Script.ScriptSource": "Inline"},
            "Parameters": [
                {"Id": "6c0b1a2e-2f51-4a8a-9d1b-2b1f7c5d8e21", "Name": "HookUrl", "Label": "Hook URL", "HelpText": "The Slack webhook.", "DefaultValue": "", "DisplaySettings": {"Octopus.ControlType": "Sensitive"}},
                {"Id": "0e7f1d1c-5b8e-4d0e-8b8a-8c0c7d7e6f32", "Name": "Message", "Label": "Message", "HelpText": "What to send.", "DefaultValue": "#{Octopus.Project.Name} deployed", "DisplaySettings": {"Octopus.ControlType": "MultiLineText"}}
            ],
            "Packages": [],
        }),
    ]
}

/// `POST` (install) or `PUT` (update to the library's version) a community template
/// into a space.
pub(crate) fn install(ctx: &mut Ctx<'_>, space: &str, id: &str, update: bool) -> Answer {
    let community = coll::find(ctx, &Place::System, "communityactiontemplates", id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(id))?;
    let community_id = text(&community, "Id").to_owned();
    let place = Place::Space(space.to_owned());
    let body = json!({
        "Name": community["Name"], "Description": community["Description"],
        "ActionType": community["ActionType"], "Properties": community["Properties"],
        "Parameters": community["Parameters"], "Packages": community["Packages"],
        "CommunityActionTemplateId": community_id,
    });
    let installed = coll::docs(ctx, &place, "actiontemplates").and_then(|d| {
        d.items()
            .iter()
            .find(|t| text(t, "CommunityActionTemplateId").eq_ignore_ascii_case(&community_id))
            .map(|t| text(t, "Id").to_owned())
    });
    let spec = spec_of("actiontemplates");
    match (installed, update) {
        (Some(existing), true) => coll::update(ctx, &place, spec, &existing, Some(body)),
        (None, true) => Err(ApiError::not_found(&format!(
            "installation of {community_id}"
        ))),
        (Some(_), false) => Err(ApiError::bad_request(
            format!(
                "The community step template '{}' is already installed.",
                text(&community, "Name")
            ),
            vec![],
        )),
        (None, false) => coll::create(ctx, &place, spec, Some(body), &[]),
    }
}
