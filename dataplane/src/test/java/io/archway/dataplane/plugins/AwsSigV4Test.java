package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Signature Version 4 against the requests of AWS's published test suite (aws-sig-v4-test-suite).
 */
class AwsSigV4Test {

  private static final AwsSigV4.Key KEY =
      new AwsSigV4.Key(
          "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service");
  private static final Instant WHEN = Instant.parse("2015-08-30T12:36:00Z");
  private static final Map<String, List<String>> HOST =
      Map.of("Host", List.of("example.amazonaws.com"));

  @Test
  void getVanilla() {
    var s = AwsSigV4.sign(KEY, "GET", "/", null, HOST, new byte[0], WHEN);
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
    var s = AwsSigV4.sign(KEY, "GET", "/", "Param2=value2&Param1=value1", HOST, null, WHEN);
    assertThat(s.canonicalRequest()).contains("\n/\nParam1=value1&Param2=value2\n");
    assertThat(s.authorization())
        .endsWith("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  }

  @Test
  void pathSegmentsAndQueryValuesAreEncodedAwsWay() {
    assertThat(AwsSigV4.canonicalPath("")).isEqualTo("/");
    assertThat(AwsSigV4.canonicalPath("/fn/a%20b/")).isEqualTo("/fn/a%2520b/");
    assertThat(AwsSigV4.canonicalQuery("b=2&a=x y&a=1&c")).isEqualTo("a=1&a=x%20y&b=2&c=");
    assertThat(AwsSigV4.encode("a-_.~/+é")).isEqualTo("a-_.~%2F%2B%C3%A9");
  }
}
