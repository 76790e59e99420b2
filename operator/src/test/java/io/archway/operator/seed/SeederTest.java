package io.archway.operator.seed;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdExceptionFactory;
import io.grpc.Status;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** How the seed backs off, and which etcd failures end a pass (the rest is in {@link SeederIT}). */
class SeederTest {

  @Test
  void retriesBackOffToAMinute() {
    assertThat(Seeder.backoff(1)).isEqualTo(1_000);
    assertThat(Seeder.backoff(2)).isEqualTo(2_000);
    assertThat(Seeder.backoff(4)).isEqualTo(8_000);
    assertThat(Seeder.backoff(7)).isEqualTo(60_000);
    assertThat(Seeder.backoff(1_000)).isEqualTo(60_000);
  }

  @Test
  void anUnreachableEtcdEndsAPassARefusalDoesNot() {
    assertThat(Seeder.unreachable(new TimeoutException("no answer"))).isTrue();
    assertThat(Seeder.unreachable(Status.UNAVAILABLE.asRuntimeException())).isTrue();
    assertThat(
            Seeder.unreachable(EtcdExceptionFactory.newEtcdException(ErrorCode.UNAVAILABLE, "x")))
        .isTrue();
    assertThat(
            Seeder.unreachable(
                EtcdExceptionFactory.newEtcdException(ErrorCode.PERMISSION_DENIED, "denied")))
        .isFalse();
    assertThat(Seeder.unreachable(new IllegalStateException("refused"))).isFalse();
  }
}
