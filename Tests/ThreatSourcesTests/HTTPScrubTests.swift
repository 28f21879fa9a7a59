import Foundation
import Testing
@testable import ThreatSources

@Suite("HTTP messages carry no credentials")
struct HTTPScrubTests {
    @Test("Userinfo is stripped from every URL in a message, and the request URL's user and password wherever they appear")
    func scrub() {
        let url = "https://reader:tr%2Fcanary-pw@es.example.com:9200/_msearch"
        let message = "Failed to connect to https://reader:tr%2Fcanary-pw@es.example.com:9200/_msearch; retry http://x:y@h/ and tr/canary-pw"
        let s = HTTPClient.scrub(message, url: url)
        #expect(!s.contains("canary-pw") && !s.contains("reader") && !s.contains("x:y@"), "\(s)")
        #expect(s.contains("https://es.example.com:9200/_msearch") && s.contains("http://h/"), "\(s)")
        #expect(HTTPClient.scrub("connection refused (Failed to connect to 127.0.0.1 port 9)") == "connection refused (Failed to connect to 127.0.0.1 port 9)")
    }

    @Test("A refused connection to a URL with userinfo names the place without it")
    func refusedWithUserinfo() {
        var o = HTTPClientOptions()
        o.retries = 0
        o.timeout = 2
        let client = HTTPClient(options: o)
        #expect {
            _ = try client.send(HTTPRequest(url: "http://reader:tr-canary-pw-3@127.0.0.1:9/x"))
        } throws: { error in
            let text = "\(error)"
            return !text.contains("tr-canary-pw-3") && !text.contains("reader") && text.contains("127.0.0.1")
        }
    }
}
