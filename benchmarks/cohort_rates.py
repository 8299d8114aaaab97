"""False-alarm and hit rates of the error cohorts: null data (errors independent of the metadata)
and a planted cohort (age > 60 in region a at 3x the error). Usage: python benchmarks/cohort_rates.py RUNS"""
import sys, numpy as np, pandas as pd
from erranalysis.io import validate_frame
from erranalysis.settings import Settings
from erranalysis.stats.slices import error_cohorts
st=Settings()
def make(seed, planted):
    rng=np.random.default_rng(seed); n=4000
    age=rng.uniform(18,80,n); region=rng.choice(list("abcdef"),n); noise=rng.normal(size=n)
    y=rng.integers(0,4,n); p_err=np.full(n,0.15)
    if planted: p_err[(age>60)&(region=='a')]=0.45
    wrong=rng.random(n)<p_err
    pred=np.where(wrong,(y+1)%4,y)
    df=pd.DataFrame({'label':y,'pred':pred,'split':rng.choice(['train','val','test'],n),'age':age,'region':region,'noise':noise})
    return validate_frame(df)
for planted in (False, True):
    hits=sum(bool(error_cohorts(make(s,planted),st)[0]) for s in range(int(sys.argv[1])))
    print('planted' if planted else 'null', hits, '/', sys.argv[1])
