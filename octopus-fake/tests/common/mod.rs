//! A small HTTP helper for the integration tests: every call goes over real HTTP.

#![allow(dead_code)]

use octopus_fake::{FakeConfig, FakeServer, Seed};
use serde_json::Value;

pub struct Api {
    pub http: reqwest::Client,
    pub root: String,
    pub key: String,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Api {
    pub fn new(server: &FakeServer) -> Self {
        Api {
            http: reqwest::Client::new(),
            root: format!("{}/api", server.url()),
            key: server.api_key().to_owned(),
        }
    }

    /// `path` is relative to `/api` (`Spaces-1/projects`), or a link starting with `/`
    /// that is resolved against the server's origin.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            let origin: String = self
                .root
                .splitn(4, '/')
                .take(3)
                .collect::<Vec<_>>()
                .join("/");
            format!("{origin}{path}")
        } else {
            format!("{}/{path}", self.root)
        }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Answer {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("X-Octopus-ApiKey", &self.key);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("json body")
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(reqwest::Method::POST, path, Some(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(reqwest::Method::PUT, path, Some(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    /// GET that must succeed.
    pub async fn ok(&self, path: &str) -> Value {
        let a = self.get(path).await;
        assert_eq!(a.status, 200, "GET {path}: {}", a.body);
        a.body
    }

    /// POST that must create.
    pub async fn created(&self, path: &str, body: Value) -> Value {
        let a = self.post(path, body).await;
        assert_eq!(a.status, 201, "POST {path}: {}", a.body);
        a.body
    }

    /// The item of a collection's `/all` with `name`.
    pub async fn named(&self, collection: &str, name: &str) -> Value {
        let all = self.ok(&format!("Spaces-1/{collection}/all")).await;
        all.as_array()
            .and_then(|a| a.iter().find(|x| x["Name"] == name).cloned())
            .unwrap_or_else(|| panic!("no {collection} named {name}"))
    }
}

pub async fn start(seed: Seed) -> (FakeServer, Api) {
    start_with(FakeConfig::seeded(seed)).await
}

pub async fn start_with(config: FakeConfig) -> (FakeServer, Api) {
    let server = FakeServer::start(config).await.expect("server starts");
    let api = Api::new(&server);
    (server, api)
}

pub fn names(items: &Value) -> Vec<String> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| x["Name"].as_str().unwrap_or_default().to_owned())
        .collect()
}
