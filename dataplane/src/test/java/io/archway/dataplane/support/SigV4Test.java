package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SigV4Test {

  private static final SigV4.Credentials EXAMPLE =
      new SigV4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);

  /** AWS's Signature Version 4 test suite, "get-vanilla". */
  @Test
  void signsAwsTestSuiteGetVanilla() {
    var headers =
        SigV4.sign(
            "GET",
            URI.create("https://example.amazonaws.com/"),
            Map.of(),
            new byte[0],
            EXAMPLE,
            "us-east-1",
            "service",
            Instant.parse("2015-08-30T12:36:00Z"));
    assertThat(headers)
        .containsEntry("X-Amz-Date", "20150830T123600Z")
        .containsEntry(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
                + " SignedHeaders=host;x-amz-date,"
                + " Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  }

  @Test
  void aSessionTokenIsSentAndSigned() {
    var headers =
        SigV4.sign(
            "POST",
            URI.create("http://127.0.0.1:4566/"),
            Map.of("Content-Type", "application/x-amz-json-1.1"),
            "{}".getBytes(),
            new SigV4.Credentials("AKID", "secret", "token"),
            "eu-west-1",
            "secretsmanager",
            Instant.parse("2026-01-01T00:00:00Z"));
    assertThat(headers).containsEntry("X-Amz-Security-Token", "token");
    assertThat(headers.get("Authorization"))
        .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token")
        .contains("/20260101/eu-west-1/secretsmanager/aws4_request");
    assertThat(new SigV4.Credentials("AKID", "secret", "token").toString())
        .doesNotContain("secret")
        .doesNotContain("token");
  }
}
