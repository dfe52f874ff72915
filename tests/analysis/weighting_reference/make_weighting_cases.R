# R values for tests/analysis/test_weighting_reference.py (R 4, survey 4.1.1, Lumley).
# Run from this folder: Rscript make_weighting_cases.R   (writes expected.json)
suppressPackageStartupMessages(library(survey))
suppressPackageStartupMessages(library(jsonlite))
out <- list()

# 1. R-indicator (Schouten, Cobben & Bethlehem 2009) of sample.csv: propensities from a
#    design-weighted logistic regression on segment and channel over every sampled unit.
s <- read.csv("sample.csv", stringsAsFactors = FALSE)
N_h <- c(V = 1000, O = 20000)
s$d <- N_h[s$stratum] / as.numeric(table(s$stratum)[s$stratum])
fit <- suppressWarnings(glm(responded ~ segment + channel, family = binomial, weights = d, data = s))
rho <- fitted(fit)
N <- sum(s$d)
rho_bar <- sum(s$d * rho) / N
S <- sqrt(sum(s$d * (rho - rho_bar)^2) / (N - 1))
partial_u <- function(v) {
  lev <- sort(unique(s[[v]]))
  m <- sapply(lev, function(h) sum(s$d[s[[v]] == h] * rho[s[[v]] == h]) / sum(s$d[s[[v]] == h]))
  Nh <- sapply(lev, function(h) sum(s$d[s[[v]] == h]))
  list(variable = v, unconditional = sqrt(sum(Nh * (m - rho_bar)^2) / N),
       levels = lapply(seq_along(lev), function(k) list(level = lev[k],
         unconditional = sqrt(Nh[[k]] / N) * (m[[k]] - rho_bar))))
}
partial_c <- function(v, other) {
  cell <- s[[other]]
  m <- ave(s$d * rho, cell, FUN = sum) / ave(s$d, cell, FUN = sum)
  sq <- s$d * (rho - m)^2
  lev <- sort(unique(s[[v]]))
  list(conditional = sqrt(sum(sq) / (N - 1)),
       levels = sapply(lev, function(h) sqrt(sum(sq[s[[v]] == h]) / (N - 1))))
}
pu <- list(partial_u("segment"), partial_u("channel"))
pc <- list(partial_c("segment", "channel"), partial_c("channel", "segment"))
for (k in 1:2) {
  pu[[k]]$conditional <- pc[[k]]$conditional
  for (j in seq_along(pu[[k]]$levels)) pu[[k]]$levels[[j]]$conditional <- as.numeric(pc[[k]]$levels[j])
}
out$r_indicator <- list(r = 1 - 2 * S, mean_propensity = rho_bar, sd_propensity = S, cv = S / rho_bar,
                        model = as.list(coef(fit)), partial = pu)

# 2. Response rates by level: svyciprop on the sample design (logit).
s$N <- N_h[s$stratum]
ds <- svydesign(ids = ~1, strata = ~stratum, fpc = ~N, data = s)
rates <- list()
for (v in c("segment", "channel")) for (lev in sort(unique(s[[v]]))) {
  sub <- subset(ds, s[[v]] == lev)
  m <- svyciprop(~responded, sub, method = "logit", df = degf(subset(ds, s[[v]] == lev)))
  rates[[length(rates) + 1]] <- list(variable = v, level = lev, rate = as.numeric(m),
    se = sqrt(as.numeric(attr(m, "var"))), ci_low = as.numeric(attr(m, "ci"))[1],
    ci_high = as.numeric(attr(m, "ci"))[2])
}
out$response_rates <- rates

# 3. Korn-Graubard ('beta') interval on a raked design, in a domain: R counts the rows of the
#    whole calibrated design (a subset keeps its zero-weight rows) where barometre counts the
#    domain's respondents who answered.
r <- read.csv("raked_responses.csv", stringsAsFactors = FALSE)
r$N <- c(A = 3359, B = 6690, C = 9951)[r$stratum]
d <- svydesign(ids = ~1, strata = ~stratum, fpc = ~N, data = r)
d <- rake(d, list(~channel, ~segment),
          list(data.frame(channel = c("email", "letter", "phone"), Freq = c(6046, 3990, 9964)),
               data.frame(segment = c("pro", "retail"), Freq = c(10063, 9937))),
          control = list(maxit = 100, epsilon = 1e-10))
r$sat <- ifelse(is.na(r$q1), NA, as.numeric(r$q1 %in% c(4, 5)))
d <- update(d, sat = r$sat)
beta <- list()
for (lev in c("email", "letter", "phone")) {
  sub <- subset(d, channel == lev & !is.na(sat))
  m <- svyciprop(~sat, sub, method = "beta", df = degf(sub), na.rm = TRUE)
  beta[[length(beta) + 1]] <- list(channel = lev, estimate = as.numeric(m),
    se = sqrt(as.numeric(attr(m, "var"))), ci_low = as.numeric(attr(m, "ci"))[1],
    ci_high = as.numeric(attr(m, "ci"))[2], df = degf(sub), rows = nrow(sub),
    n = sum(weights(sub) > 0))
}
out$beta_raked_domains <- beta

# 4. A certainty stratum: stratum Z has one respondent out of a population of one.
c4 <- data.frame(stratum = c("A", "A", "A", "B", "B", "B", "Z"), y = c(3, 4, 5, 2, 4, 5, 1),
                 N = c(10, 10, 10, 20, 20, 20, 1))
dc <- svydesign(ids = ~1, strata = ~stratum, fpc = ~N, data = c4)
mc <- svymean(~y, dc)
out$certainty <- list(estimate = as.numeric(coef(mc)), se = as.numeric(SE(mc)), df = degf(dc))

writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA), "expected.json")
