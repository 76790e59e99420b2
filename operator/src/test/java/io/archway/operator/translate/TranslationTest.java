package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.operator.translate.Translation.Cause;
import io.archway.operator.translate.Translation.Warning;
import org.junit.jupiter.api.Test;

class TranslationTest {

  @Test
  void aResourceWithNoErrorIsNotRefused() {
    var t = new Translation();
    t.warn("metadata.annotations.x: not supported by Archway; ignored");
    assertThat(t.refusal()).isEmpty();
  }

  @Test
  void onlyClaimsOthersHoldMakeAConflict() {
    var t = new Translation();
    t.conflict("spec.http[0].match", "host a.example path /x is already served by ...");
    assertThat(t.refusal()).hasValue(Cause.CONFLICT);
    t.error("spec.http[1].backends[0].serviceName", "Service default/web not found");
    assertThat(t.refusal()).hasValue(Cause.INVALID);
  }

  @Test
  void theCauseIsDecidedByTypeNeverByTheMessage() {
    var t = new Translation();
    t.error("spec.http[0].name", "\"x\" is already served by nothing: a message, not a conflict");
    assertThat(t.refusal()).hasValue(Cause.INVALID);
  }

  @Test
  void warningsKeepTheirOwnReasonWhateverTheirText() {
    var t = new Translation();
    t.warn("CertificateExpired", "same text");
    t.warn("same text");
    assertThat(t.warningsWithReason())
        .containsExactly(
            new Warning("CertificateExpired", "same text"),
            new Warning("Unsupported", "same text"));
    assertThat(t.warnings()).containsExactly("same text", "same text");
  }

  @Test
  void aWarningPassedOnKeepsItsReason() {
    var inner = new Translation();
    inner.warn("CertificateExpired", "certificate expired");
    var outer = new Translation();
    inner.warningsWithReason().forEach(w -> outer.warn(w, "upstream 'web': "));
    assertThat(outer.warningsWithReason())
        .containsExactly(new Warning("CertificateExpired", "upstream 'web': certificate expired"));
  }
}
