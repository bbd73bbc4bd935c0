package com.metropia.portal.messaging.http;

import com.metropia.portal.messaging.InvalidConfigurationException;
import com.metropia.portal.messaging.config.PortalConfiguration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.ExtendedCamelContext;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.StartupListener;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may call the HTTP API: a request presents one of the keys of {@code portal.api-keys}, as
 * {@code Authorization: Bearer <key>} or {@code X-API-Key: <key>}, or it is answered 401 and reaches no route. Health
 * ({@code camel.management.health-path} and below) stays open, for the probes of load balancers and orchestrators;
 * everything else the server serves, metrics included, needs a key. {@code portal.http.auth=off} switches the check
 * off, for a service that only a trusted network can reach.
 * <p>
 * Declared in the HTTP route file, so that only an application serving the HTTP API needs keys: one that includes the
 * task and event routes alone, for its own {@code direct:} calls, never reads them. The check is a handler on the
 * server's router, ordered just after the shutdown answer of {@link VertxErrorPages} and so before every route and
 * its body handler: a refused request is answered without its body being read. It is installed once the server is
 * up and before the routes take requests. Without keys the start-up stops, with a message saying what to set: with the
 * other settings' problems when {@link PortalConfiguration} reads them, or here for a route file loaded later.
 */
public class ApiKeyAuthentication implements CamelContextAware, StartupListener {

    private static final Logger LOG = LoggerFactory.getLogger(ApiKeyAuthentication.class);

    private static final String KEYS_PROPERTY = "portal.api-keys";
    private static final String AUTH_PROPERTY = "portal.http.auth";
    /** Name of the router entry of the check, by which a router already guarded is recognised. */
    private static final String ROUTE_NAME = "portal-api-key-authentication";
    private static final String CHALLENGE = "Bearer realm=\"portal-messaging\"";

    private CamelContext context;

    @Override
    public CamelContext getCamelContext() {
        return context;
    }

    /** Called when the route file is read, and again when the bean is bound. */
    @Override
    public void setCamelContext(CamelContext context) {
        if (this.context == context) {
            return;
        }
        this.context = context;
        try {
            // on a context already started (a route file loaded later) this runs the check at once
            context.addStartupListener(this);
        } catch (Exception e) {
            throw RuntimeCamelException.wrapRuntimeCamelException(e);
        }
    }

    /**
     * Runs when the routes are ready and their consumers not yet started, the server being up by then (and again
     * whenever routes are added later, a router already guarded being left as it is).
     */
    @Override
    public void onCamelContextStarted(CamelContext started, boolean alreadyStarted) {
        Set<VertxPlatformHttpRouter> routers = started.getRegistry().findByType(VertxPlatformHttpRouter.class);
        if (routers.isEmpty()) {
            // the routes are loaded without a server (the offline lint): nothing to guard
            return;
        }
        maskKeysInStartupSummary(started.getCamelContextExtension());
        PropertiesComponent properties = started.getPropertiesComponent();
        // PortalConfiguration reports these with the other settings; this covers a route file loaded later
        List<String> problems = settingProblems(properties);
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        if (mode(properties).equals("off")) {
            LOG.warn("{}=off: the HTTP API takes requests from anyone who can reach its port", AUTH_PROPERTY);
            return;
        }
        ApiKeys keys = ApiKeys.parse(properties.resolveProperty(KEYS_PROPERTY).orElse(""));
        String healthPath = PortalConfiguration.optional(properties, "camel.management.health-path")
                .orElse("/observe/health");
        ObjectMapper mapper = started.getRegistry().lookupByNameAndType(PortalConfiguration.OBJECT_MAPPER,
                ObjectMapper.class);
        for (VertxPlatformHttpRouter router : routers) {
            if (router.getRoutes().stream().noneMatch(route -> ROUTE_NAME.equals(route.getName()))) {
                // Integer.MIN_VALUE is the shutdown answer of VertxErrorPages
                router.route().setName(ROUTE_NAME).order(Integer.MIN_VALUE + 1)
                        .handler(routing -> check(routing, keys, healthPath, mapper));
                LOG.info("HTTP API: requests need an API key ({} in {}); {} is open", keys.size(), KEYS_PROPERTY,
                        healthPath);
            }
        }
    }

    /** What is wrong with the authentication settings of a service serving the HTTP API; empty when it may start. */
    public static List<String> settingProblems(PropertiesComponent properties) {
        String mode = mode(properties);
        if (mode.equals("off")) {
            return List.of();
        }
        if (!mode.equals("api-key")) {
            return List.of(AUTH_PROPERTY + " must be api-key or off, not '" + mode + "'");
        }
        if (ApiKeys.parse(properties.resolveProperty(KEYS_PROPERTY).orElse("")).size() == 0) {
            return List.of("No API key for the HTTP API: set " + KEYS_PROPERTY + " (PORTAL_API_KEYS) to one or more"
                           + " keys, comma-separated, or set " + AUTH_PROPERTY + "=off (PORTAL_HTTP_AUTH=off) to"
                           + " serve it without authentication");
        }
        return List.of();
    }

    private static String mode(PropertiesComponent properties) {
        // the default comes from the properties (PortalDefaults); blank is a wrong value, reported as such
        return PortalConfiguration.optional(properties, AUTH_PROPERTY).orElse("").toLowerCase(Locale.ROOT);
    }

    private static void check(RoutingContext routing, ApiKeys keys, String healthPath, ObjectMapper mapper) {
        String path = routing.normalizedPath();
        if (path.equals(healthPath) || path.startsWith(healthPath + "/")) {
            routing.next();
            return;
        }
        // Every key the request presents must be one of the keys: a valid key beside a wrong one (two Authorization
        // headers, or both headers) is refused, whatever their order, rather than one of them taken.
        List<String> presented = new ArrayList<>();
        for (String authorization : routing.request().headers().getAll("Authorization")) {
            String bearer = bearer(authorization);
            if (bearer != null) {
                presented.add(bearer);
            }
        }
        presented.addAll(routing.request().headers().getAll("X-API-Key"));
        if (presented.isEmpty()) {
            routing.response().putHeader("WWW-Authenticate", CHALLENGE);
            VertxErrorPages.answer(routing, mapper, 401,
                    "No API key: send one as Authorization: Bearer <key> or X-API-Key: <key>. Nothing was done");
            return;
        }
        boolean allValid = true;
        for (String key : presented) {
            // every key compared, so that the time taken does not tell which one was wrong
            allValid &= keys.accepts(key);
        }
        if (allValid) {
            routing.next();
        } else {
            routing.response().putHeader("WWW-Authenticate", CHALLENGE + ", error=\"invalid_token\"");
            VertxErrorPages.answer(routing, mapper, 401, presented.size() == 1
                    ? "The API key is not valid. Nothing was done"
                    : "An API key of the request is not valid (every key a request sends must be). Nothing was done");
        }
    }

    /** The credentials of an {@code Authorization} header of the Bearer scheme (the scheme in any case), or null. */
    private static String bearer(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return authorization.substring(7).trim();
    }

    /**
     * Camel's start-up summary masks a property by the last part of its name, and {@code apikeys} is not among its
     * words: added here, so that the keys stay masked in an application that sets its own
     * {@code camel.main.additional-sensitive-keywords}.
     */
    private static void maskKeysInStartupSummary(ExtendedCamelContext extension) {
        String words = extension.getAdditionalSensitiveKeywords();
        if (words == null || words.isBlank()) {
            extension.setAdditionalSensitiveKeywords("apikeys");
        } else if (!words.toLowerCase(Locale.ROOT).contains("apikeys")) {
            extension.setAdditionalSensitiveKeywords(words + ",apikeys");
        }
    }
}
