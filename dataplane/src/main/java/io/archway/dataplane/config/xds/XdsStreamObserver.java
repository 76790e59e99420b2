package io.archway.dataplane.config.xds;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC's callbacks of one ADS stream (state of the world or delta), handed over to the source's
 * thread. Inbound flow control: gRPC is asked for the next response only once the previous one was
 * handled (translated, then ACKed or NACKed), so a server that pushes faster than the source
 * translates fills its own send window rather than this process's memory.
 */
final class XdsStreamObserver<Q, R> implements ClientResponseObserver<Q, R> {

  private static final Logger log = LoggerFactory.getLogger(XdsStreamObserver.class);

  private final Executor thread;
  private final Consumer<R> onResponse;
  private final Consumer<Throwable> onBroken;
  private volatile ClientCallStreamObserver<Q> call;

  XdsStreamObserver(Executor thread, Consumer<R> onResponse, Consumer<Throwable> onBroken) {
    this.thread = thread;
    this.onResponse = onResponse;
    this.onBroken = onBroken;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<Q> call) {
    this.call = call;
    call.disableAutoRequestWithInitial(1);
  }

  @Override
  public void onNext(R response) {
    execute(
        () -> {
          try {
            onResponse.accept(response);
          } catch (RuntimeException e) {
            // The executor would swallow it: the response is dropped, the stream goes on.
            log.error("xds: handling a response failed", e);
          } finally {
            call.request(1);
          }
        });
  }

  @Override
  public void onError(Throwable t) {
    execute(() -> onBroken.accept(t));
  }

  @Override
  public void onCompleted() {
    execute(
        () ->
            onBroken.accept(
                io.grpc.Status.UNAVAILABLE.withDescription("closed by the server").asException()));
  }

  private void execute(Runnable r) {
    try {
      thread.execute(r);
    } catch (RejectedExecutionException e) {
      // closing: nothing more is handled
    }
  }
}
