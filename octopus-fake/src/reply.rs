//! What a handler answers: a status and a JSON body, or an Octopus error body.

use serde_json::{json, Value};

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: Value) -> Self {
        Reply { status: 200, body }
    }

    /// 201 with the created resource.
    pub fn created(body: Value) -> Self {
        Reply { status: 201, body }
    }
}

/// An error answer with the body every Octopus client reads: `{ErrorMessage, Errors}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: u16,
    pub message: String,
    pub errors: Vec<String>,
}

impl ApiError {
    /// 400 with a message and details.
    pub fn bad_request(message: impl Into<String>, errors: Vec<String>) -> Self {
        ApiError {
            status: 400,
            message: message.into(),
            errors,
        }
    }

    /// 400 "Model validation failed." naming what is wrong.
    pub fn validation(errors: Vec<String>) -> Self {
        Self::bad_request("There was a problem with your request.", errors)
            .with_message("Model validation failed.")
    }

    fn with_message(mut self, message: &str) -> Self {
        message.clone_into(&mut self.message);
        self
    }

    /// 404 for an id that does not exist.
    pub fn not_found(id: &str) -> Self {
        ApiError {
            status: 404,
            message: format!("The resource '{id}' was not found."),
            errors: Vec::new(),
        }
    }

    /// 404 for a path the server does not serve.
    pub fn no_route(path: &str) -> Self {
        ApiError {
            status: 404,
            message: format!("The resource you requested was not found. ({path})"),
            errors: Vec::new(),
        }
    }

    /// 405 for a method a route does not take.
    pub fn method_not_allowed() -> Self {
        ApiError {
            status: 405,
            message: "The requested HTTP method is not supported by this resource.".into(),
            errors: Vec::new(),
        }
    }

    /// 400 for a missing or unreadable body.
    pub fn no_body() -> Self {
        Self::bad_request("No request body was supplied.", Vec::new())
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "ErrorMessage": self.message,
            "Errors": self.errors,
            "ParsedHelpLinks": [],
        })
    }
}

/// What handlers return.
pub(crate) type Answer = Result<Reply, ApiError>;
