mod common;
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_and_index() {
    let fx = Fixture::new("//- /a.md\n# A\nsee [[b]]\n//- /b.md\n# B\n");
    let mut server = TestServer::start(fx.root()).await;
    let r = server.request("textDocument/hover", json!({"textDocument":{"uri": uri(&fx.path("a.md"))}, "position": {"line":1,"character":6}})).await;
    println!("{r}");
    server.shutdown().await;
}
