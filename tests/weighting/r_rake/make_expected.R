# R's rake on the export of tests/weighting/test_weighting.py's raked campaign (survey 4.1.1).
# Run from this folder: Rscript make_expected.R   (reads export.csv and export.design.json,
# writes expected.json: every indicator on the whole sample, logit intervals as the design asks)
suppressPackageStartupMessages(library(survey))
suppressPackageStartupMessages(library(jsonlite))
d <- read.csv("export.csv", stringsAsFactors = FALSE)
g <- fromJSON("export.design.json", simplifyVector = FALSE)
pop <- unlist(g$population)
d$N <- as.numeric(pop[d$stratum])
des <- svydesign(ids = ~1, strata = ~stratum, fpc = ~N, data = d)
m <- g$calibration$margins
des <- rake(des, lapply(names(m), function(v) as.formula(paste0("~", v))),
            lapply(names(m), function(v) { x <- data.frame(names(m[[v]]), as.numeric(unlist(m[[v]])));
                                           names(x) <- c(v, "Freq"); x }),
            control = list(maxit = 100, epsilon = 1e-10))
score <- function(ind, v) {
  if (ind$kind == "mean") return(v[[ind$item]])
  if (ind$kind == "proportion") return(ifelse(is.na(v[[ind$item]]), NA, as.numeric(v[[ind$item]] %in% unlist(ind$values))))
  if (ind$kind == "nps") { x <- v[[ind$item]]; return(ifelse(is.na(x), NA, ifelse(x >= 9, 100, ifelse(x >= 7, 0, -100)))) }
  lo <- ind$scale[[1]]; hi <- ind$scale[[2]]; num <- 0; den <- 0
  for (k in names(ind$items)) { x <- v[[k]]; ok <- !is.na(x); a <- ind$items[[k]]
    num <- num + ifelse(ok, a * (x - lo) / (hi - lo), 0); den <- den + ifelse(ok, a, 0) }
  ifelse(den > 0, 100 * num / den, NA)
}
out <- list()
for (ind in g$indicators) {
  des <- update(des, .y = score(ind, des$variables))
  sub <- subset(des, !is.na(.y))
  df <- degf(sub)
  if (ind$kind == "proportion") {
    r <- svyciprop(~.y, sub, method = "logit", df = df, na.rm = TRUE)
    est <- as.numeric(r); se <- sqrt(as.numeric(attr(r, "var"))); ci <- as.numeric(attr(r, "ci"))
  } else {
    r <- svymean(~.y, sub, na.rm = TRUE); est <- as.numeric(coef(r)); se <- as.numeric(SE(r))
    q <- qt(0.975, df); ci <- c(est - q * se, est + q * se)
  }
  out[[length(out) + 1]] <- list(indicator = ind$name, estimate = est, se = se, ci_low = ci[1],
                                 ci_high = ci[2], df = df, n = sum(weights(sub) > 0))
}
writeLines(toJSON(list(estimates = out), auto_unbox = TRUE, pretty = TRUE, digits = NA), "expected.json")
