package io.archway.dataplane.http;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;

/**
 * The client connection's HTTP/1.1 codec: the strict {@link Http1RequestDecoder} and Netty's
 * response encoder, which is told which requests were HEAD so that their answers carry no body (a
 * chunked HEAD answer with a terminating chunk would desynchronize the client).
 */
final class Http1ServerCodec
    extends CombinedChannelDuplexHandler<Http1RequestDecoder, HttpResponseEncoder> {

  Http1ServerCodec(int maxRequestLine, int maxHeaderSize) {
    var methods = new ArrayDeque<HttpMethod>(2);
    init(
        new Http1RequestDecoder(maxRequestLine, maxHeaderSize, methods::add),
        new HttpResponseEncoder() {
          @Override
          protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
              return super.isContentAlwaysEmpty(msg);
            }
            return methods.poll() == HttpMethod.HEAD || super.isContentAlwaysEmpty(msg);
          }
        });
  }
}
