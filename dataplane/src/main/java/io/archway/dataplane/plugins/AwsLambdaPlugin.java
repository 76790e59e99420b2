package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.support.SigV4;
import java.time.Clock;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * aws-lambda (APISIX 3.x, priority -1899, access): the request is answered by an AWS Lambda
 * function (through API Gateway or a function URL) instead of the upstream ({@link
 * ServerlessFunction}). {@code authorization.apikey} goes as {@code x-api-key}, unless the client
 * sent one; {@code authorization.iam} signs the request with AWS Signature Version 4 ({@link
 * SigV4}), unless the client sent an {@code Authorization} of its own: {@code host}, {@code
 * x-amz-date} and every field forwarded are signed, as APISIX signs them.
 */
@PluginTraits(category = Plugin.Category.SERVERLESS)
public final class AwsLambdaPlugin implements Plugin<AwsLambdaPlugin.Config> {

  /** The configuration; schema {@code aws-lambda.json}. */
  public record Config(
      String functionUri,
      Authorization authorization,
      int timeout,
      boolean sslVerify,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool) {}

  /** {@code authorization}: an API key, or IAM credentials to sign with. */
  public record Authorization(String apikey, Iam iam) {}

  /** {@code authorization.iam}. */
  public record Iam(String accesskey, String secretkey, String awsRegion, String service) {}

  /** Where signatures get their time; a test may pin it. */
  static volatile Clock clock = Clock.systemUTC();

  @Override
  public String name() {
    return "aws-lambda";
  }

  @Override
  public int priority() {
    return -1899;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var uri = ServerlessFunction.httpUrl("function_uri", conf.functionUri());
    var a = conf.authorization();
    ServerlessFunction.Auth auth = call -> {};
    if (a != null && a.apikey() != null) {
      var key = a.apikey();
      auth =
          call -> {
            if (!call.has("x-api-key")) {
              call.set("x-api-key", key);
            }
          };
    }
    if (a != null && a.iam() != null) {
      var iam = a.iam();
      var credentials = new SigV4.Credentials(iam.accesskey(), iam.secretkey(), null);
      var apikey = auth;
      auth =
          call -> {
            apikey.apply(call);
            if (call.has("authorization")) {
              return; // the client's own credentials, as APISIX leaves them
            }
            call.headers.put("host", List.of(call.authority()));
            var signed =
                SigV4.sign(
                    credentials,
                    iam.awsRegion(),
                    iam.service(),
                    call.method,
                    call.path,
                    call.rawQuery,
                    call.headers,
                    call.body,
                    clock.instant());
            // The JDK's client writes Host itself, from the same URI.
            call.headers.remove("host");
            call.set("x-amz-date", signed.amzDate());
            call.set("authorization", signed.authorization());
          };
    }
    return new ServerlessFunction(
        uri,
        ServerlessFunction.Mode.FORWARD,
        auth,
        conf.timeout(),
        conf.sslVerify(),
        scope.services(),
        null);
  }
}
