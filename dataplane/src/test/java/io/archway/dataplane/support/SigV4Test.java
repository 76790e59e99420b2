package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Signature Version 4 against AWS's published test suite (aws-sig-v4-test-suite) and the examples
 * of its documentation.
 */
class SigV4Test {

  private static final SigV4.Credentials EXAMPLE =
      new SigV4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);
  private static final Instant WHEN = Instant.parse("2015-08-30T12:36:00Z");
  private static final Map<String, List<String>> HOST =
      Map.of("Host", List.of("example.amazonaws.com"));

  /** AWS's Signature Version 4 test suite, "get-vanilla", signing a URI. */
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
            WHEN);
    assertThat(headers)
        .containsEntry("X-Amz-Date", "20150830T123600Z")
        .containsEntry(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
                + " SignedHeaders=host;x-amz-date,"
                + " Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  }

  /** "get-vanilla" again, signing path, query and fields. */
  @Test
  void getVanilla() {
    var s = SigV4.sign(EXAMPLE, "us-east-1", "service", "GET", "/", null, HOST, new byte[0], WHEN);
    assertThat(s.amzDate()).isEqualTo("20150830T123600Z");
    assertThat(s.canonicalRequest())
        .isEqualTo(
            """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855""");
    assertThat(s.authorization())
        .isEqualTo(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
                + " SignedHeaders=host;x-amz-date,"
                + " Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  }

  @Test
  void getVanillaQueryOrderKeyCase() {
    var s =
        SigV4.sign(
            EXAMPLE,
            "us-east-1",
            "service",
            "GET",
            "/",
            "Param2=value2&Param1=value1",
            HOST,
            null,
            WHEN);
    assertThat(s.canonicalRequest()).contains("\n/\nParam1=value1&Param2=value2\n");
    assertThat(s.authorization())
        .endsWith("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  }

  @Test
  void pathSegmentsAndQueryValuesAreEncodedAwsWay() {
    assertThat(SigV4.canonicalPath("")).isEqualTo("/");
    assertThat(SigV4.canonicalPath("/fn/a%20b/")).isEqualTo("/fn/a%2520b/");
    assertThat(SigV4.canonicalQuery("b=2&a=x y&a=1&c")).isEqualTo("a=1&a=x%20y&b=2&c=");
    assertThat(SigV4.encode("a-_.~/+é")).isEqualTo("a-_.~%2F%2B%C3%A9");
  }

  /** AWS's "Example: GET Object" (Signature Version 4, header-based authentication). */
  @Test
  void matchesAwssPublishedS3GetObjectExample() {
    var headers = new LinkedHashMap<String, List<String>>();
    headers.put("Host", List.of("examplebucket.s3.amazonaws.com"));
    headers.put("Range", List.of("bytes=0-9"));
    headers.put(
        "x-amz-content-sha256",
        List.of("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    headers.put("x-amz-date", List.of("20130524T000000Z"));
    var s =
        SigV4.sign(
            new SigV4.Credentials(
                "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", null),
            "us-east-1",
            "s3",
            "GET",
            "/test.txt",
            "",
            headers,
            new byte[0],
            Instant.parse("2013-05-24T00:00:00Z"));
    assertThat(s.authorization())
        .isEqualTo(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + " SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + " Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  }

  @Test
  void signingKeyMatchesAwssExample() {
    var hex = HexFormat.of();
    assertThat(
            hex.formatHex(
                SigV4.signingKey(
                    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam")))
        .isEqualTo("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    assertThat(hex.formatHex(SigV4.sha256("".getBytes(StandardCharsets.UTF_8))))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
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
