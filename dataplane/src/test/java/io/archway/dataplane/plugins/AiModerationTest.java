package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import org.junit.jupiter.api.Test;

/** SigV4 against AWS's published examples. */
class AiModerationTest {

  @Test
  void sigV4MatchesAwssPublishedS3GetObjectExample() {
    // AWS's "Example: GET Object" (Signature Version 4, header-based authentication).
    var headers = new LinkedHashMap<String, String>();
    headers.put("Host", "examplebucket.s3.amazonaws.com");
    headers.put("Range", "bytes=0-9");
    headers.put(
        "x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    headers.put("x-amz-date", "20130524T000000Z");
    var auth =
        SigV4.authorization(
            "GET",
            "/test.txt",
            "",
            headers,
            new byte[0],
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "us-east-1",
            "s3",
            ZonedDateTime.of(2013, 5, 24, 0, 0, 0, 0, ZoneOffset.UTC));
    assertThat(auth)
        .isEqualTo(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + " SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + " Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  }

  @Test
  void sigV4SigningKeyMatchesAwssExample() {
    assertThat(
            SigV4.hex(
                SigV4.signingKey(
                    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam")))
        .isEqualTo("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    assertThat(SigV4.hex(SigV4.sha256("".getBytes(StandardCharsets.UTF_8))))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
}
