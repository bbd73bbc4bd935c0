package com.metropia.portal.messaging;

import com.metropia.portal.messaging.tasks.PortalTasks;
import com.metropia.portal.messaging.tasks.SqsErrors;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.apache.camel.CamelExchangeException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.InvalidMessageContentsException;
import software.amazon.awssdk.services.sqs.model.SqsException;

import static com.metropia.portal.messaging.tasks.SqsErrors.Kind.MESSAGE_REFUSED;
import static com.metropia.portal.messaging.tasks.SqsErrors.Kind.OUTAGE;
import static com.metropia.portal.messaging.tasks.SqsErrors.Kind.QUEUE_REFUSED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Which SQS failures are waited out (an outage) and which are not (the queue's settings, or the message): what SQS
 * and the AWS SDK really throw where the emulator or the machine can produce it, and SQS's documented answers where
 * they cannot.
 */
class SqsErrorsTest {

    private final EmbeddedEmulators emulators = SharedEmulators.get();

    @Test
    void should_count_an_unreachable_sqs_as_an_outage() {
        String nothingListens = "http://127.0.0.1:" + PortalService.freePort();
        Throwable refused = send(client(nothingListens, credentials()), nothingListens + "/000000000000/q");
        // after retries the SDK adds each attempt's failure, without its cause, as a suppressed error
        Throwable refusedTwice = send(client(nothingListens, credentials(), 2), nothingListens + "/000000000000/q");

        assertThat(SqsErrors.kindOf(refused)).as(refused.toString()).isEqualTo(OUTAGE);
        assertThat(SqsErrors.kindOf(refusedTwice)).as(refusedTwice.toString()).isEqualTo(OUTAGE);
    }

    @Test
    void should_count_throttling_5xx_and_timeouts_as_an_outage() {
        assertThat(SqsErrors.kindOf(answer(503, "ServiceUnavailable", "Service Unavailable"))).isEqualTo(OUTAGE);
        assertThat(SqsErrors.kindOf(answer(500, "InternalError", "We encountered an internal error"))).isEqualTo(OUTAGE);
        assertThat(SqsErrors.kindOf(answer(400, "ThrottlingException", "Rate exceeded"))).isEqualTo(OUTAGE);
        assertThat(SqsErrors.kindOf(answer(400, "RequestThrottled", "Request is throttled"))).isEqualTo(OUTAGE);
        assertThat(SqsErrors.kindOf(answer(429, "TooManyRequests", "slow down"))).isEqualTo(OUTAGE);
        assertThat(SqsErrors.kindOf(ApiCallTimeoutException.create(Duration.ofSeconds(2).toMillis()))).isEqualTo(OUTAGE);
        assertThat(SqsErrors.kindOf(SdkClientException.create("Unable to execute HTTP request: Read timed out",
                new SocketTimeoutException("Read timed out")))).isEqualTo(OUTAGE);
    }

    @Test
    void should_count_a_queue_that_does_not_exist_as_refused_by_the_settings() {
        String queueUrl = emulators.createQueue("sqs-errors-gone");
        try (SqsClient sqs = emulators.newSqsClient()) {
            sqs.deleteQueue(b -> b.queueUrl(queueUrl));
            Throwable gone = catchThrowable(() -> sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody("x")));

            assertThat(SqsErrors.kindOf(gone)).as(String.valueOf(gone)).isEqualTo(QUEUE_REFUSED);
        }
    }

    @Test
    void should_count_an_endpoint_that_does_not_resolve_as_refused_by_the_settings() {
        Throwable unknownHost = send(client("http://no-such-host.invalid:9324", credentials()),
                "http://no-such-host.invalid:9324/000000000000/q");

        assertThat(SqsErrors.kindOf(unknownHost)).as(String.valueOf(unknownHost)).isEqualTo(QUEUE_REFUSED);
    }

    @Test
    void should_count_missing_credentials_as_refused_by_the_settings() {
        // an empty profile file: the provider finds nothing, whatever the machine's own AWS settings are
        AwsCredentialsProvider none = ProfileCredentialsProvider.builder()
                .profileFile(ProfileFile.builder().content(new java.io.ByteArrayInputStream(new byte[0]))
                        .type(ProfileFile.Type.CREDENTIALS).build())
                .profileName("portal-messaging-test").build();
        Throwable missing = send(client(emulators.sqsEndpoint(), none), emulators.createQueue("sqs-errors-creds"));

        assertThat(missing).isInstanceOf(SdkClientException.class);
        assertThat(SqsErrors.kindOf(missing)).as(String.valueOf(missing)).isEqualTo(QUEUE_REFUSED);
    }

    @Test
    void should_count_access_denied_and_refused_credentials_as_refused_by_the_settings() {
        assertThat(SqsErrors.kindOf(answer(403, "AccessDenied", "Access to the resource is denied"))).isEqualTo(QUEUE_REFUSED);
        assertThat(SqsErrors.kindOf(answer(403, "InvalidClientTokenId", "The security token included in the request is invalid")))
                .isEqualTo(QUEUE_REFUSED);
        assertThat(SqsErrors.kindOf(answer(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")))
                .isEqualTo(QUEUE_REFUSED);
        assertThat(SqsErrors.kindOf(answer(400, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist")))
                .isEqualTo(QUEUE_REFUSED);
    }

    @Test
    void should_count_a_message_sqs_refuses_as_such_as_refused_for_that_message() {
        String queueUrl = emulators.createQueue("sqs-errors-long");
        try (SqsClient sqs = emulators.newSqsClient()) {
            Throwable tooLong = catchThrowable(() -> sqs.sendMessage(b -> b.queueUrl(queueUrl)
                    .messageBody("x".repeat(PortalTasks.SQS_MAX_MESSAGE_BYTES + 1))));

            assertThat(SqsErrors.kindOf(tooLong)).as(String.valueOf(tooLong)).isEqualTo(MESSAGE_REFUSED);
        }
        assertThat(SqsErrors.kindOf(InvalidMessageContentsException.builder().statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("InvalidMessageContents").build())
                .message("Invalid characters found").build())).isEqualTo(MESSAGE_REFUSED);
        // how SQS words a message over the queue's MaximumMessageSize
        assertThat(SqsErrors.kindOf(answer(400, "InvalidParameterValue",
                "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.")))
                .isEqualTo(MESSAGE_REFUSED);
    }

    @Test
    void should_find_the_sqs_failure_behind_camel_and_ignore_other_errors() {
        SqsException denied = answer(403, "AccessDenied", "denied");

        assertThat(SqsErrors.kindOf(new CamelExchangeException("failed", null, denied))).isEqualTo(QUEUE_REFUSED);
        assertThat(SqsErrors.kindOf(new IllegalStateException("not SQS"))).isNull();
        assertThat(SqsErrors.reason(denied)).contains("SqsException").contains("denied");
    }

    @Test
    void should_turn_a_refusal_of_the_settings_into_a_502_a_refused_size_into_a_413_and_pass_the_rest_on() {
        SqsErrors errors = new SqsErrors();

        assertThat(catchThrowable(() -> errors.rethrow(failed(answer(400, "QueueDoesNotExist",
                "The specified queue does not exist."))))).isInstanceOf(TaskRefusedException.class)
                .hasMessageContaining("SQS configuration").hasMessageContaining("The specified queue does not exist")
                .hasNoCause();
        assertThat(catchThrowable(() -> errors.rethrow(failed(answer(400, "InvalidParameterValue",
                "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.")))))
                .isInstanceOf(PayloadTooLargeException.class);
        SqsException unavailable = answer(503, "ServiceUnavailable", "down");
        assertThat(catchThrowable(() -> errors.rethrow(failed(unavailable)))).isSameAs(unavailable);
        assertThat(new SqsErrors.Outage().matches(failed(unavailable))).isTrue();
        assertThat(new SqsErrors.Outage().matches(failed(answer(403, "AccessDenied", "denied")))).isFalse();
    }

    private static org.apache.camel.Exchange failed(Exception error) {
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(
                new org.apache.camel.impl.DefaultCamelContext());
        exchange.setProperty(org.apache.camel.Exchange.EXCEPTION_CAUGHT, error);
        return exchange;
    }

    private static SqsException answer(int status, String code, String message) {
        return (SqsException) SqsException.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(message).build())
                .message(message).build();
    }

    private static StaticCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(EmbeddedEmulators.ACCESS_KEY,
                EmbeddedEmulators.SECRET_KEY));
    }

    private static SqsClient client(String endpoint, AwsCredentialsProvider credentials) {
        return client(endpoint, credentials, 1);
    }

    private static SqsClient client(String endpoint, AwsCredentialsProvider credentials, int attempts) {
        return SqsClient.builder().httpClientBuilder(ApacheHttpClient.builder())
                .endpointOverride(URI.create(endpoint)).region(Region.of(EmbeddedEmulators.REGION))
                .credentialsProvider(credentials)
                .overrideConfiguration(config -> config.retryStrategy(
                        AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(attempts).build()))
                .build();
    }

    private static Throwable send(SqsClient client, String queueUrl) {
        try (client) {
            Throwable failure = catchThrowable(() -> client.sendMessage(b -> b.queueUrl(queueUrl).messageBody("x")));
            assertThat(failure).as("SQS should have failed").isNotNull();
            return failure;
        }
    }
}
