package io.archway.dataplane.plugins;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Flow;

/**
 * A response body handler of the JDK's client that keeps at most {@code max} bytes (and reads the
 * rest away): what a plugin keeps of a service's answer, however large the service makes it.
 */
final class BoundedBody implements Flow.Subscriber<List<ByteBuffer>> {

  private final int max;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

  private BoundedBody(int max) {
    this.max = max;
  }

  static HttpResponse.BodyHandler<byte[]> handler(int max) {
    return info -> {
      var b = new BoundedBody(max);
      return HttpResponse.BodySubscribers.fromSubscriber(b, s -> s.bytes.toByteArray());
    };
  }

  @Override
  public void onSubscribe(Flow.Subscription subscription) {
    subscription.request(Long.MAX_VALUE);
  }

  @Override
  public void onNext(List<ByteBuffer> item) {
    for (var buf : item) {
      int n = Math.min(buf.remaining(), max - bytes.size());
      if (n > 0) {
        var b = new byte[n];
        buf.get(b);
        bytes.writeBytes(b);
      }
    }
  }

  @Override
  public void onError(Throwable throwable) {}

  @Override
  public void onComplete() {}
}
